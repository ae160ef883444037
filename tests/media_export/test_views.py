"""Upload limits and errors, export status, and who may fetch media."""

import json
import os

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django_tasks_db.models import DBTaskResult

from interviews.invitations import SALT, make_token
from interviews.services import create_interview
from media_export.models import MediaExport

WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60
MP4_HEAD = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 52
URL = "/api/interviews/upload/video"


def upload(client, interview_id, token, content, name="rec.webm", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "interview_id": str(interview_id),
        "token": token,
        "session_id": "s1",
        "file": SimpleUploadedFile(name, content, "video/webm"),
    }
    return client.post(URL, data, **extra)


def error_code(response):
    body = json.loads(response.content)
    assert set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


def incoming(settings):
    d = settings.UPLOADS_VIDEOS_DIR / ".incoming"
    return sorted(os.listdir(d)) if d.exists() else []


def test_upload_accepted_queues_export_and_replaces_atomically(client, interview, settings):
    token = make_token(interview)
    first = upload(client, interview.pk, token, WEBM_HEAD + b"first")
    assert first.status_code == 202
    assert first.json()["status_url"] == f"/api/interviews/{interview.pk}/export"
    stored = settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}_upload.webm"
    assert stored.read_bytes().endswith(b"first")
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "queued" and export.video_session_id == "s1"
    task = DBTaskResult.objects.get(id=export.task_id)
    assert task.task_path == "media_export.tasks.export_interview_task"
    assert task.args_kwargs["args"] == [interview.pk]

    inode = stored.stat().st_ino
    second = upload(client, interview.pk, token, WEBM_HEAD + b"second")
    assert second.status_code == 202
    assert stored.read_bytes().endswith(b"second")
    assert stored.stat().st_ino != inode  # a new file renamed over the old one
    third = upload(client, interview.pk, token, MP4_HEAD + b"mp4", name="x.bin")
    assert third.status_code == 202
    assert (settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}_upload.mp4").exists()
    assert not stored.exists()
    assert MediaExport.objects.get(pk=interview.pk).video_upload.endswith("_upload.mp4")
    assert incoming(settings) == []


def test_upload_too_large_is_413_counted_from_the_body(client, interview, settings):
    settings.MAX_VIDEO_UPLOAD_BYTES = 1000
    response = upload(client, interview.pk, make_token(interview), WEBM_HEAD + b"x" * 5000)
    assert response.status_code == 413 and error_code(response) == "too_large"
    assert incoming(settings) == []
    assert not MediaExport.objects.filter(pk=interview.pk).exists()


def test_upload_too_large_by_content_length_is_refused_before_reading(client, interview, settings):
    settings.MAX_VIDEO_UPLOAD_BYTES = 1000
    response = client.generic(
        "POST", URL, b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(10**9)
    )
    assert response.status_code == 413 and error_code(response) == "too_large"


def test_upload_with_lying_content_length_still_capped(interview, settings):
    """The cap is enforced on the bytes received, whatever Content-Length claims."""
    from django.core.files.uploadhandler import StopUpload

    from media_export.uploads import CappedDiskUploadHandler

    settings.MAX_VIDEO_UPLOAD_BYTES = 100
    handler = CappedDiskUploadHandler(None)
    handler.new_file("file", "a.webm", "video/webm", 10)  # claims 10 bytes
    handler.receive_data_chunk(b"x" * 60, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert handler.too_large and incoming(settings) == []


def test_upload_wrong_type_is_415(client, interview, settings):
    response = upload(client, interview.pk, make_token(interview), b"RIFF....WAVEfmt " * 4)
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"
    assert incoming(settings) == []
    assert not (settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}_upload.webm").exists()


def test_upload_bad_token_is_403(client, interview, settings):
    other, _ = create_interview(job_title="Eng", candidate_name="D", candidate_email="d@x.io")
    for token in ("", "garbage", make_token(other), make_token(interview)[:-2] + "xx"):
        response = upload(client, interview.pk, token, WEBM_HEAD)
        assert response.status_code == 403 and error_code(response) == "forbidden"
    assert incoming(settings) == []


def test_upload_unknown_interview_is_404(client, interview, settings):
    token = signing.dumps({"interview": 99999}, salt=SALT, compress=True)
    response = upload(client, 99999, token, WEBM_HEAD)
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert incoming(settings) == []


def test_upload_bad_requests_are_400_or_405(client, interview):
    token = make_token(interview)
    assert client.get(URL).status_code == 405
    r = client.post(URL, {"interview_id": "abc", "token": token})
    assert r.status_code == 400 and error_code(r) == "bad_request"
    r = client.post(URL, {"interview_id": str(interview.pk), "token": token})
    assert r.status_code == 400 and "file" in r.json()["error"]["message"]
    r = upload(client, interview.pk, token, b"")
    assert r.status_code == 400


def test_upload_is_csrf_exempt(interview):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert upload(strict, interview.pk, make_token(interview), WEBM_HEAD).status_code == 202


def test_export_status_for_token_holder_and_staff(client, interview):
    token = make_token(interview)
    status_url = f"/api/interviews/{interview.pk}/export"
    assert client.get(status_url).status_code == 403
    assert client.get(status_url, {"token": token}).status_code == 404  # nothing uploaded yet
    upload(client, interview.pk, token, WEBM_HEAD)
    body = client.get(status_url, {"token": token}).json()
    assert body["status"] == "queued" and body["error"] is None
    assert set(body) >= {"status", "video_url", "audio_paths", "error"}
    assert client.get(status_url, HTTP_X_INTERVIEW_TOKEN=token).status_code == 200
    staff = User.objects.create_user("s", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(status_url).json()["status"] == "queued"


def _media(settings, relpath, content=b"data"):
    path = settings.MEDIA_ROOT / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_media_is_served_only_to_staff_and_the_owner(client, interview, settings):
    other, _ = create_interview(job_title="Eng", candidate_name="D", candidate_email="d@x.io")
    _media(settings, f"uploads/audio/{interview.pk}_mic.wav", b"RIFFmine")
    _media(settings, f"uploads/videos/{other.pk}.mp4", b"theirs")
    _media(settings, "spool/1/s1/mic.pcm", b"pcm")
    mine = f"/media/uploads/audio/{interview.pk}_mic.wav"
    theirs = f"/media/uploads/videos/{other.pk}.mp4"
    token = make_token(interview)

    assert client.get(mine).status_code == 404  # anonymous
    ok = client.get(mine, {"token": token})
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"RIFFmine"
    assert ok["Content-Type"] == "audio/x-wav" or ok["Content-Type"].startswith("audio/")
    assert client.get(mine, HTTP_X_INTERVIEW_TOKEN=token).status_code == 200
    assert client.get(theirs, {"token": token}).status_code == 404  # someone else's file
    for probe in (
        "/media/",
        "/media/uploads/",
        "/media/uploads/audio/",
        "/media/spool/1/s1/mic.pcm",
        "/media/../db.sqlite3",
        "/media/uploads/audio/..%2f..%2fspool/1/s1/mic.pcm",
    ):
        assert client.get(probe, {"token": token}).status_code == 404, probe

    staff = User.objects.create_user("s", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(theirs).status_code == 200
    assert client.get("/media/spool/1/s1/mic.pcm").status_code == 404
    plain = User.objects.create_user("p", password="pw")
    client.force_login(plain)
    assert client.get(theirs).status_code == 404


def test_media_supports_byte_ranges_for_seeking(client, interview, settings):
    _media(settings, f"uploads/videos/{interview.pk}.mp4", bytes(range(200)))
    url = f"/media/uploads/videos/{interview.pk}.mp4"
    token = make_token(interview)
    part = client.get(url, {"token": token}, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206 and part["Content-Range"] == "bytes 10-19/200"
    assert b"".join(part.streaming_content) == bytes(range(10, 20))
    tail = client.get(url, {"token": token}, HTTP_RANGE="bytes=-5")
    assert b"".join(tail.streaming_content) == bytes(range(195, 200))
    rest = client.get(url, {"token": token}, HTTP_RANGE="bytes=190-")
    assert b"".join(rest.streaming_content) == bytes(range(190, 200))
    bad = client.get(url, {"token": token}, HTTP_RANGE="bytes=500-600")
    assert bad.status_code == 416 and bad["Content-Range"] == "bytes */200"
    whole = client.get(url, {"token": token})
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 404  # still needs the token
