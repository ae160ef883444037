"""Media in S3-compatible object storage (moto's server on loopback): the export reads and
writes only through the storage API, and playback hands staff a short-lived signed URL."""

import urllib.request

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured

from interviews.invitations import make_token
from interviews.models import Interview
from interviews.services import create_interview
from interviewsite.settings import media_storages
from media_export import ffmpeg, recording
from media_export.exporting import run_export
from media_export.models import MediaExport
from media_export.services import register_upload

from . import objectstore
from .helpers import SpoolBuilder, make_video, speechlike, tone, write_wav


@pytest.fixture(scope="module")
def endpoint():
    with objectstore.moto_endpoint() as url:
        yield url


@pytest.fixture
def bucket(endpoint, settings):
    name = objectstore.new_bucket(endpoint)
    objectstore.apply_settings(settings, endpoint, name)
    return name


def test_storage_settings_come_from_the_environment():
    local, origins = media_storages({})
    assert local["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert origins == []
    s3, origins = media_storages(
        {"MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_ENDPOINT_URL": "http://h:9"}
    )
    assert s3["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert "http://h:9" in origins
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        media_storages({"MEDIA_STORAGE": "s3"})
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE"):
        media_storages({"MEDIA_STORAGE": "ftp"})


@pytest.mark.django_db
def test_export_and_playback_go_through_the_bucket(tmp_path, bucket, endpoint, settings, client):
    settings.MIX_WAIT_SECONDS = 0
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    Interview.objects.filter(pk=interview.pk).update(status=Interview.Status.COMPLETED)
    voice = speechlike(2.5, seed=3)
    video = make_video(
        tmp_path / "upload.mp4", write_wav(tmp_path / "v.wav", voice), codec="h264", seconds=3.0
    )
    spool = SpoolBuilder(interview.pk, "s1").rec(10.0).mic_stream(10.0, voice)
    spool.ai(0, 10.9, tone(700, 0.3), played=11.0).end()
    staged = tmp_path / "staged.mp4"
    staged.write_bytes(video.read_bytes())
    register_upload(interview, staged, "mp4", "s1")

    assert run_export(interview.pk) == MediaExport.Status.DONE
    interview.refresh_from_db()
    stored = objectstore.keys(endpoint, bucket, "uploads/")
    names = {f"uploads/audio/{interview.pk}_{t}.wav" for t in ("mic", "ai", "mixed")}
    names |= {f"uploads/videos/{interview.pk}.mp4", f"uploads/videos/{interview.pk}_upload.mp4"}
    assert set(stored) == names
    assert set(interview.audio_paths.values()) <= set(stored)
    # Nothing of the finished media is left on this machine's disk.
    assert not (settings.MEDIA_ROOT / "uploads").exists() or not [
        p for p in (settings.MEDIA_ROOT / "uploads").rglob("*") if p.is_file()
    ]

    mp4 = f"uploads/videos/{interview.pk}.mp4"
    token = make_token(interview)
    assert client.get(f"/media/{mp4}").status_code == 404  # anonymous: no hint it exists
    client.force_login(User.objects.create_user("s", password="pw", is_staff=True))
    response = client.get(f"/media/{mp4}")
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    signed = response["Location"]
    assert signed.startswith(f"{endpoint}/{bucket}/{mp4}?") and "Expires=" in signed
    request = urllib.request.Request(signed, headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(request) as got:
        assert got.status == 206 and len(got.read()) == 100
    assert client.get(f"/media/uploads/videos/{interview.pk + 1}.mp4").status_code == 404
    client.logout()
    owner = client.get(f"/media/{mp4}", {"token": token})
    assert owner.status_code == 302
    with urllib.request.urlopen(owner["Location"]) as got:
        body = got.read()
    assert len(body) == stored[mp4]
    local = tmp_path / "out.mp4"
    local.write_bytes(body)
    assert ffmpeg.probe(local).video_codec == "h264"


@pytest.mark.django_db
def test_recording_parts_are_listed_from_the_bucket(bucket, endpoint):
    """Object storage has no folders: the parts are found by listing the prefix."""
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    assert recording.segments(interview.pk) == []
    recording.store_part(interview.pk, 0, 0, b"\x1a\x45\xdf\xa3 first")
    recording.store_part(interview.pk, 0, 1, b"second")
    assert set(objectstore.keys(endpoint, bucket, "recordings/")) == {
        recording.part_name(interview.pk, 0, 0),
        recording.part_name(interview.pk, 0, 1),
    }
    [segment] = recording.segments(interview.pk)
    assert segment.segment == 0 and segment.parts == [0, 1] and segment.bytes == 16
