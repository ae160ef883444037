"""Operator commands and the admin page."""

import io
import os
import re
import time

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from interviews.models import Interview
from interviews.services import create_interview
from media_export import ffmpeg
from media_export.exporting import run_export
from media_export.models import MediaExport
from media_export.services import register_upload

from .helpers import SpoolBuilder, const, make_video, speechlike, tone, write_wav


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def exported(tmp_path, interview, settings):
    voice = np.concatenate([speechlike(1.0, seed=4), np.zeros(36000, dtype="<i2")])
    s = SpoolBuilder(interview.pk).rec(3.0)
    s.mic_stream(3.0, voice)
    for seq in range(3):  # the AI answers 0.5 s after the candidate stops, then is cut
        s.ai(seq, 4.4, tone(600, 0.2), played=4.5 + 0.2 * seq)
    s.cut(1, 100.0).end()
    video = make_video(
        tmp_path / "v.mp4", write_wav(tmp_path / "v.wav", voice), codec="h264", seconds=3.0
    )
    tmp = tmp_path / "copy"
    tmp.write_bytes(video.read_bytes())
    register_upload(interview, tmp, "mp4", "s1")
    settings.MIX_WAIT_SECONDS = 0
    assert run_export(interview.pk) == "done"
    return video


def test_remix_and_export_commands(tmp_path, interview, settings):
    exported(tmp_path, interview, settings)
    out = run("remix_interview", str(interview.pk))
    assert "re-running the export" in out and "Export done" in out
    assert MediaExport.objects.get(pk=interview.pk).attempts == 2
    out = run("remix_interview", str(interview.pk), "--no-export")
    assert "Timeline: zero" in out and "(video)" in out  # keeps the video's timeline
    out = run("export_interview", str(interview.pk))
    assert "Aligning" in out and "Muxing the MP4 (copying H.264)" in out
    assert f"/media/uploads/videos/{interview.pk}.mp4" in out
    out = run("export_interview", str(interview.pk), "--enqueue")
    assert "Queued export task" in out
    assert MediaExport.objects.get(pk=interview.pk).status == "queued"
    with pytest.raises(CommandError, match="does not exist"):
        run("remix_interview", "999999")
    other, _ = create_interview(job_title="Eng", candidate_name="D", candidate_email="d@x.io")
    with pytest.raises(CommandError, match="no spool"):
        run("remix_interview", str(other.pk))
    with pytest.raises(CommandError, match="no uploaded video"):
        run("export_interview", str(other.pk))


def test_export_interview_retries_a_failed_export(tmp_path, interview, settings):
    video = exported(tmp_path, interview, settings)
    upload = settings.MEDIA_ROOT / MediaExport.objects.get(pk=interview.pk).video_upload
    upload.write_bytes(b"\0\0\0\x20ftypisom" + b"\0" * 100)
    with pytest.raises(CommandError, match="Export failed"):
        run("export_interview", str(interview.pk))
    assert MediaExport.objects.get(pk=interview.pk).status == "failed"
    upload.write_bytes(video.read_bytes())
    assert "Export done" in run("export_interview", str(interview.pk))
    assert MediaExport.objects.get(pk=interview.pk).status == "done"


def _age(path, days):
    old = time.time() - days * 86400
    os.utime(path, (old, old))


def test_prune_uploads(tmp_path, interview, settings):
    exported(tmp_path, interview, settings)
    busy, _ = create_interview(job_title="Eng", candidate_name="B", candidate_email="b@x.io")
    Interview.objects.filter(pk=busy.pk).update(status=Interview.Status.IN_PROGRESS)
    busy_file = settings.UPLOADS_AUDIO_DIR / f"{busy.pk}_mic.wav"
    busy_file.write_bytes(b"x" * 100)
    fresh = settings.UPLOADS_AUDIO_DIR / "999_mic.wav"
    fresh.write_bytes(b"y" * 10)
    files = [p for p in settings.MEDIA_ROOT.joinpath("uploads").rglob("*") if p.is_file()]
    for path in files:
        if path != fresh:
            _age(path, 40)
    expected = sum(p.stat().st_size for p in files if p not in (fresh, busy_file))

    out = run("prune_uploads", "--older-than", "30d", "--dry-run")
    assert "Would free" in out and f"({expected} bytes)" in out
    assert "kept 1 file(s) of interviews still in progress" in out
    assert all(p.exists() for p in files)

    out = run("prune_uploads", "--older-than", "30d")
    assert "Freed" in out and f"({expected} bytes)" in out
    assert f"Removing uploads/videos/{interview.pk}.mp4" in out
    assert busy_file.exists() and fresh.exists()
    assert not (settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}.mp4").exists()
    interview.refresh_from_db()
    assert interview.video_url == "" and interview.audio_paths == {}
    assert "Freed 0 B" in run("prune_uploads", "--older-than", "30d")
    with pytest.raises(CommandError, match="--older-than"):
        run("prune_uploads", "--older-than", "soon")


def test_check_media_ok_and_failing(settings, tmp_path):
    ffmpeg._locate.cache_clear()
    out = run("check_media", "--min-free", "0")
    assert "encoder aac: ok" in out and "encoder libx264: ok" in out and "Media setup OK" in out
    with pytest.raises(CommandError, match="problem"):
        run("check_media", "--min-free", "1000000")
    settings.FFMPEG_BINARY = str(tmp_path / "no-such-ffmpeg")
    try:
        with pytest.raises(CommandError, match="problem"):
            run("check_media", "--min-free", "0")
    finally:
        ffmpeg._locate.cache_clear()


def test_check_media_exit_code_is_nonzero_on_problems(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SECRET_KEY": "t",
        "MEDIA_ROOT": str(tmp_path),
        "FFMPEG_BINARY": "/nonexistent/ffmpeg",
    }
    bad = subprocess.run(
        [sys.executable, "manage.py", "check_media"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "PROBLEM" in bad.stderr
    env.pop("FFMPEG_BINARY")
    good = subprocess.run(
        [sys.executable, "manage.py", "check_media", "--min-free", "0"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr


def test_ffmpeg_probe_works_without_ffprobe(tmp_path, settings):
    voice = const(1000, 24000)
    video = make_video(
        tmp_path / "v.webm", write_wav(tmp_path / "v.wav", voice), codec="vp8", seconds=1.0
    )
    with_ffprobe = ffmpeg.probe(video)
    fallback = ffmpeg._probe_with_ffmpeg(video)
    assert with_ffprobe.video_codec == fallback.video_codec == "vp8"
    assert [s.kind for s in fallback.streams] == ["video", "audio"]
    assert fallback.start == pytest.approx(with_ffprobe.start, abs=1e-3)


def test_imageio_ffmpeg_is_the_fallback(settings, monkeypatch):
    import shutil

    ffmpeg._locate.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        info = ffmpeg._locate(None)
        assert info.source == "imageio-ffmpeg" and info.ffprobe is None
        assert os.path.exists(info.path) and info.version != "unknown"
    finally:
        ffmpeg._locate.cache_clear()


def test_admin_interview_page_shows_players_job_state_and_timeline(
    tmp_path, interview, settings, client
):
    exported(tmp_path, interview, settings)
    staff = User.objects.create_superuser("admin", "a@x.io", "pw")
    client.force_login(staff)
    page = client.get(f"/admin/interviews/interview/{interview.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("mic", "ai", "mixed"):
        assert f'src="/media/uploads/audio/{interview.pk}_{name}.wav"' in html
    assert (
        '<video id="review-video" controls preload="metadata" src="/media/uploads/videos/' in html
    )
    assert "Done" in html and "Measured video zero" in html and "measured" in html
    assert "<svg" in html and 'class="mic"' in html and 'class="ai"' in html
    assert 'class="latency"' in html and 'class="cut"' in html
    latency = int(re.search(r'font-size="9">(\d+) ms</text>', html).group(1))
    assert 500 <= latency <= 700  # candidate's last voiced frame to the AI's first sample
    assert "Invitation link" in html  # the interviews app's own fields are still there
    assert client.get(f"/media/uploads/audio/{interview.pk}_mic.wav").status_code == 200
