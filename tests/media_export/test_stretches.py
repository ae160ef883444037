"""A recording that steps against the mic mid-interview: the export follows it, stretch by stretch.

Real FFmpeg makes WebM uploads whose audio timestamps jump (as Chromium's do under load), or
the spool's mic chunks lose time; the MP4's pictures are compared with the upload's own.
"""

import numpy as np
import pytest

from interviews.models import Interview
from media_export import ffmpeg
from media_export.exporting import run_export
from media_export.models import MediaExport
from media_export.services import register_upload
from media_export.spool import read_session
from media_export.stretches import Window, confirmed, decode_timed, follow, split, windows

from .helpers import SR, SpoolBuilder, speechlike, tone, write_wav

Z = 20.0  # client-clock time of the video's first frame
REC_ERROR = 0.025
SECONDS = 40.0


INTERVIEW_STATUS = Interview.Status.COMPLETED  # see conftest.interview


def build(tmp_path, interview_id, *, codec="vp8", rec_jump=None, mic_jump=None, quiet=None):
    """An upload of the candidate's voice and the spool of the same session.

    ``rec_jump=(t, s)``: the upload's audio timestamps jump by ``s`` at ``t`` (samples run on).
    ``mic_jump=(t, s)``: the mic chunks after ``t`` are stamped ``s`` later (the page lost time).
    ``quiet=(a, b)``: near silence between ``a`` and ``b`` seconds.
    """
    voice = speechlike(SECONDS - 0.5, seed=5)
    if quiet:
        rng = np.random.default_rng(2)
        a, b = round(quiet[0] * SR), round(quiet[1] * SR)
        voice[a:b] = np.rint(rng.standard_normal(b - a) * 15).astype("<i2")
    wav = write_wav(tmp_path / "voice.wav", voice)
    video = tmp_path / ("upload.webm" if codec == "vp8" else "upload.mp4")
    args = ["-y", "-v", "error", "-f", "lavfi"]
    args += ["-i", f"testsrc2=size=160x120:rate=25:duration={SECONDS}", "-i", str(wav)]
    args += ["-map", "0:v", "-map", "1:a"]
    if rec_jump:
        args += ["-af", f"asetpts='if(gte(T,{rec_jump[0]}),PTS+{rec_jump[1]}/TB,PTS)'"]
    if codec == "vp8":
        args += ["-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime", "-c:a", "libopus"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg.run([*args, "-t", str(SECONDS), str(video)], what="making a test video", timeout=600)
    spool = SpoolBuilder(interview_id).rec(Z + REC_ERROR)
    if mic_jump:
        cut = round(mic_jump[0] * SR)
        spool.mic_stream(Z, voice[:cut])
        spool.mic_stream(Z + mic_jump[0] + mic_jump[1], voice[cut:], seq0=cut // 2400)
    else:
        spool.mic_stream(Z, voice)
    spool.ai(0, Z + 0.9, tone(700, 0.3, amplitude=5000), played=Z + 1.0).end()
    return video, read_session(spool.writer.directory)


def export(tmp_path, interview, video):
    copy = video.with_suffix(".copy")
    copy.write_bytes(video.read_bytes())
    register_upload(interview, copy, video.suffix.lstrip("."), "s1")
    assert run_export(interview.pk) == MediaExport.Status.DONE
    return MediaExport.objects.get(pk=interview.pk)


def frame(path, at):
    """The grey 32×24 picture on screen ``at`` seconds after the first frame."""
    start = ffmpeg.first_frame_time(path, "video") or 0.0
    args = ["-v", "error", "-copyts", "-ss", f"{start + at:.3f}", "-i", str(path)]
    args += ["-frames:v", "1", "-vf", "scale=32:24,format=gray", "-f", "rawvideo", "-"]
    out = ffmpeg.run(args, what="reading a frame", timeout=60).stdout
    return np.frombuffer(out, np.uint8).astype(float)


def shown_at(mp4, upload, upload_time, candidates):
    """Which MP4 time among ``candidates`` shows the upload's picture at ``upload_time``."""
    wanted = frame(upload, upload_time)
    errors = [float(np.mean((frame(mp4, t) - wanted) ** 2)) for t in candidates]
    return candidates[int(np.argmin(errors))]


def test_split_never_makes_a_step_from_noise():
    """Jitter of a few ms and a lone stray window between agreeing ones: one run. A lone
    window first or last stays apart, for its short windows to confirm or drop."""
    rng = np.random.default_rng(4)
    zeros = [Z + rng.normal(0, 0.002) for _ in range(12)]
    zeros[5] += 0.13  # one window fooled by an echo
    points = [Window(6 * k, 6 * k + 6, z, 0.9) for k, z in enumerate(zeros)]
    assert [len(g) for g in split(points)] == [11]
    zeros[0] -= 0.2
    zeros[11] += 0.3
    points = [Window(6 * k, 6 * k + 6, z, 0.9) for k, z in enumerate(zeros)]
    assert [len(g) for g in split(points)] == [1, 9, 1]
    assert len(split([])) == 0


def test_a_stray_window_is_not_confirmed_by_its_seconds(tmp_path, interview):
    """A clean recording, and a window that claims another zero: its seconds do not agree."""
    video, session = build(tmp_path, interview.pk)
    decoded = decode_timed(video)
    assert not confirmed(decoded, session, [Window(6.0, 12.0, Z + 0.2, 0.9)])
    assert confirmed(decoded, session, [Window(6.0, 12.0, Z, 0.9)])


def test_tracking_the_last_zero_finds_what_the_full_search_finds(tmp_path, interview):
    """Looking around the last window's zero first is a shortcut, never another answer."""
    video, session = build(tmp_path, interview.pk, rec_jump=(20.0, 0.12), mic_jump=None)
    decoded = decode_timed(video)
    tracked = windows(decoded, session, Z)
    searched = windows(decoded, session, Z, track=False)
    assert len(tracked) == len(searched) >= 5
    for a, b in zip(tracked, searched, strict=True):
        assert (a.start, a.end) == (b.start, b.end)
        assert a.zero == pytest.approx(b.zero, abs=1e-7)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-6)
    shifts = {round((w.zero - Z) * 1000) for w in tracked}
    assert len(shifts) == 2  # the step is in both


def test_split_finds_a_step_two_windows_confirm():
    points = [Window(6 * k, 6 * k + 6, Z + (0.12 if k >= 4 else 0.0), 0.9) for k in range(8)]
    groups = split(points)
    assert [len(g) for g in groups] == [4, 4]


def test_a_clean_recording_with_a_silence_gives_one_stretch_and_the_plain_mux(
    tmp_path, interview, settings
):
    settings.MIX_WAIT_SECONDS = 0
    video, session = build(tmp_path, interview.pk, codec="h264", quiet=(14.0, 26.0))
    stretches = follow(session, video, Z + REC_ERROR)
    assert len(stretches) == 1 and abs(stretches[0].zero - Z) < 0.002
    row = export(tmp_path, interview, video)
    assert len(row.alignment_stretches) == 1
    assert row.alignment_stretches[0]["shift_ms"] == 0.0
    assert abs(row.measured_offset - Z) < 0.002
    # The quiet path is untouched: the upload's H.264 is copied, not cut and re-encoded.
    md5 = [
        ffmpeg.run(
            ["-v", "error", "-i", str(p), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
            what="md5",
        ).stdout
        for p in (video, settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4")
    ]
    assert md5[0] == md5[1]


def test_a_jump_in_the_recordings_audio_timestamps_moves_the_picture_after_it(
    tmp_path, interview, settings
):
    """The upload plays its audio 120 ms later from 20 s on; the mic chunks ran on."""
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build(tmp_path, interview.pk, rec_jump=(20.0, 0.12))
    row = export(tmp_path, interview, video)
    first, second = row.alignment_stretches
    assert abs(first["zero"] - Z) < 0.01 and abs(row.measured_offset - first["zero"]) < 1e-6
    assert second["shift_ms"] == pytest.approx(-120, abs=3)
    assert abs(second["start"] - 20.0) < 1.0 and second["cause"] == "recording audio"
    mp4 = settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4"
    # Before the step the picture stays; after it, it comes 120 ms earlier.
    assert shown_at(mp4, video, 10.02, [9.90, 10.02]) == 10.02
    assert shown_at(mp4, video, 30.02, [29.90, 30.02]) == 29.90


def test_an_early_step_with_one_window_of_voice_before_it_is_followed(
    tmp_path, interview, settings
):
    """Silence, 3 s of voice, then the mic chunks 160 ms later from 7 s on: the first stretch
    has one window of voice, and the zero of the first pictures is still its own."""
    video, session = build(tmp_path, interview.pk, mic_jump=(7.0, 0.16), quiet=(0.0, 3.0))
    found = follow(session, video, Z + REC_ERROR)
    assert len(found) == 2 and found[0].windows == 1
    assert abs(found[0].zero - Z) < 0.01
    assert (found[1].zero - found[0].zero) * 1000 == pytest.approx(160, abs=3)


def test_mic_chunks_that_lose_time_move_the_picture_after_it(tmp_path, interview, settings):
    """The page stamped its mic chunks 160 ms later from 30 s on; the upload ran on."""
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build(tmp_path, interview.pk, mic_jump=(30.0, 0.16))
    row = export(tmp_path, interview, video)
    first, second = row.alignment_stretches
    assert abs(first["zero"] - Z) < 0.01
    assert second["shift_ms"] == pytest.approx(160, abs=3)
    assert abs(second["start"] - 30.0) < 1.0 and second["cause"] == "mic chunks"
    mp4 = settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4"
    assert shown_at(mp4, video, 20.02, [20.02, 20.18]) == 20.02
    assert shown_at(mp4, video, 35.02, [35.02, 35.18]) == 35.18
