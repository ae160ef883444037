"""Messages shown to people (admin pages, the status API) never contain server paths."""

import re

import pytest
from django.contrib.auth.models import User

from interviews.invitations import make_token
from interviews.models import Interview
from interviews.services import create_interview
from media_export import ffmpeg
from media_export.exporting import run_export
from media_export.models import MediaExport
from media_export.services import mix_interview, register_upload

#: An absolute POSIX path of at least two segments (what FFmpeg and OSError print).
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/[\w.-]+/[\w./-]+")


@pytest.fixture
def interview(db):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    Interview.objects.filter(pk=interview.pk).update(status=Interview.Status.COMPLETED)
    return interview


def shown_texts(client, interview) -> list[str]:
    token = make_token(interview)
    status = client.get(f"/api/interviews/{interview.pk}/export?token={token}").json()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get(f"/admin/interviews/interview/{interview.pk}/change/").content.decode()
    export_page = client.get(
        f"/admin/media_export/mediaexport/{interview.pk}/change/"
    ).content.decode()
    return [status["error"] or "", page, export_page]


def test_an_ffmpeg_failure_is_shown_without_server_paths(client, interview, settings, tmp_path):
    from tests.media_export.test_export import build_case

    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec="h264")
    export = register_upload(interview, video, "mp4", "s1")
    target = settings.MEDIA_ROOT / export.video_upload
    target.write_bytes(target.read_bytes()[:64] + b"\0" * 2000)  # ftyp intact, garbage after
    with pytest.raises(ffmpeg.FFmpegError):
        run_export(interview.pk)
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "failed" and "failed" in export.error
    assert str(settings.MEDIA_ROOT) not in export.error
    assert not ABSOLUTE_PATH.search(export.error), export.error
    for text in shown_texts(client, interview):
        assert str(settings.MEDIA_ROOT) not in text
        assert str(tmp_path) not in text


def test_a_mixing_failure_is_shown_without_server_paths(client, interview, settings):
    settings.UPLOADS_AUDIO_DIR.parent.mkdir(parents=True, exist_ok=True)
    settings.UPLOADS_AUDIO_DIR.write_text("a file where the audio folder belongs")
    from tests.media_export.helpers import SpoolBuilder, tone

    SpoolBuilder(interview.pk).rec(0.0).mic(0, 0.0, tone(440, 0.5)).end()
    with pytest.raises(OSError):
        mix_interview(interview.pk)
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.mix_error
    assert str(settings.MEDIA_ROOT) not in export.mix_error, export.mix_error
    assert not ABSOLUTE_PATH.search(export.mix_error), export.mix_error
