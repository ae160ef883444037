"""No interview left behind: the sweep finalises what a dead process or browser left."""

import os
import time

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from interviews import services as interview_services
from interviews.models import Interview
from interviews.services import create_interview
from media_export import recording
from media_export.exporting import run_export
from media_export.finalise import sweep
from media_export.models import MediaExport
from media_export.services import mix_interview

from .helpers import SR, SpoolBuilder, ffprobe_streams, make_video, speechlike, write_wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_interview(db):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    interview_services.start_interview(interview_id=interview.pk)
    return Interview.objects.get(pk=interview.pk)


def spool_without_end(interview_id, seconds=3.0):
    """A session that stopped mid-interview (its process was killed): no end record."""
    voice = speechlike(seconds, seed=5)
    builder = SpoolBuilder(interview_id, "sess-dead").rec(0.0).mic_stream(0.0, voice)
    builder.close()
    return builder.writer.directory, voice


def age(directory, seconds):
    old = time.time() - seconds
    for path in directory.iterdir():
        os.utime(path, (old, old))


def store_video_in_parts(tmp_path, interview_id, voice, pieces=3):
    video = make_video(
        tmp_path / "rec.webm", write_wav(tmp_path / "v.wav", voice), codec="vp8", seconds=3.0
    )
    data = video.read_bytes()
    size = -(-len(data) // pieces)
    for n in range(pieces):
        recording.store_part(interview_id, 0, n, data[n * size : (n + 1) * size])
    return video


def run_queued(interview_id):
    """What the export worker would run: the mix, then the export."""
    mix_interview(interview_id)
    return run_export(interview_id)


def test_an_interview_whose_process_died_is_exported_from_the_parts_that_arrived(
    tmp_path, live_interview, settings
):
    settings.MIX_WAIT_SECONDS = 0
    directory, voice = spool_without_end(live_interview.pk)
    store_video_in_parts(tmp_path, live_interview.pk, voice)
    age(directory, settings.SESSION_RESUME_SECONDS + 60)

    assert sweep() == [live_interview.pk]
    live_interview.refresh_from_db()
    assert live_interview.status == Interview.Status.COMPLETED
    assert live_interview.end_reason == Interview.EndReason.ABANDONED
    assert recording.is_closed(live_interview.pk)
    assert MediaExport.objects.get(pk=live_interview.pk).status == "queued"

    assert run_queued(live_interview.pk) == MediaExport.Status.DONE
    live_interview.refresh_from_db()
    assert live_interview.status == Interview.Status.EXPORTED
    out = settings.UPLOADS_VIDEOS_DIR / f"{live_interview.pk}.mp4"
    streams = {s["codec_type"]: s for s in ffprobe_streams(out)}
    assert float(streams["video"]["duration"]) == pytest.approx(3.0, abs=0.2)
    assert sweep() == []  # nothing left to do


def test_without_any_video_the_audio_is_exported_over_a_still_frame(
    live_interview, settings, client
):
    settings.MIX_WAIT_SECONDS = 0
    directory, voice = spool_without_end(live_interview.pk, seconds=2.0)
    age(directory, settings.SESSION_RESUME_SECONDS + 60)

    assert sweep() == [live_interview.pk]
    export = MediaExport.objects.get(pk=live_interview.pk)
    assert "no video" in export.no_video_reason
    assert run_queued(live_interview.pk) == MediaExport.Status.DONE
    live_interview.refresh_from_db()
    assert live_interview.status == Interview.Status.EXPORTED
    out = settings.UPLOADS_VIDEOS_DIR / f"{live_interview.pk}.mp4"
    streams = {s["codec_type"]: s for s in ffprobe_streams(out)}
    assert streams["video"]["codec_name"] == "h264"
    assert float(streams["audio"]["duration"]) == pytest.approx(len(voice) / SR, abs=0.2)
    # Staff see why the MP4 is a still frame.
    staff = User.objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get(reverse("admin:interviews_interview_change", args=[live_interview.pk]))
    assert page.status_code == 200
    assert "browser sent no video" in page.content.decode()


def test_a_live_interview_is_left_alone(live_interview, settings):
    spool_without_end(live_interview.pk)  # written just now
    assert sweep() == []
    live_interview.refresh_from_db()
    assert live_interview.status == Interview.Status.IN_PROGRESS
    assert not recording.is_closed(live_interview.pk)


def test_a_completed_interview_whose_browser_never_completed_the_upload_is_finalised(
    tmp_path, live_interview, settings
):
    settings.MIX_WAIT_SECONDS = 0
    _directory, voice = spool_without_end(live_interview.pk)
    store_video_in_parts(tmp_path, live_interview.pk, voice)
    interview_services.complete_interview(
        interview_id=live_interview.pk, end_reason=Interview.EndReason.CANDIDATE_ENDED
    )
    assert sweep() == []  # just ended: the browser is still uploading its last part
    Interview.objects.filter(pk=live_interview.pk).update(
        ended_at=live_interview.started_at.replace(year=2000)
    )
    assert sweep() == [live_interview.pk]
    assert recording.is_closed(live_interview.pk)
    assert MediaExport.objects.get(pk=live_interview.pk).video_upload.endswith(".webm")
