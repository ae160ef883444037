"""Alignment and the MP4 export, with real FFmpeg on generated WebM and H.264 uploads."""

import logging
import shutil

import numpy as np
import pytest

from interviews.models import Interview
from media_export import ffmpeg
from media_export.alignment import correlate, measure
from media_export.exporting import run_export
from media_export.mixing import read_wav
from media_export.models import MediaExport
from media_export.services import register_upload
from media_export.spool import SAMPLE_RATE, read_session

from .helpers import SR, SpoolBuilder, ffprobe_streams, make_video, speechlike, tone, write_wav

Z = 20.0  # true client-clock time of the video's first frame
REC_ERROR = 0.025  # recording_started is this far off (Chromium: about +-25 ms)
SECONDS = 4.0


INTERVIEW_STATUS = Interview.Status.COMPLETED  # see conftest.interview


def build_case(
    tmp_path, interview_id, *, codec, audio_delay=0.0, voice=True, rec=True, session="s1"
):
    """A video whose audio is the candidate's voice, and the spool of the same session."""
    voice_samples = (
        speechlike(SECONDS - 0.5, seed=3)
        if voice
        else np.zeros(round((SECONDS - 0.5) * SR), dtype="<i2")
    )
    wav = write_wav(tmp_path / f"voice-{codec}-{audio_delay}.wav", voice_samples)
    ext = "webm" if codec == "vp8" else "mp4"
    video = make_video(
        tmp_path / f"upload-{audio_delay}.{ext}",
        wav,
        codec=codec,
        seconds=SECONDS,
        audio_delay=audio_delay,
    )
    spool = SpoolBuilder(interview_id, session)
    if rec:
        spool.rec(Z + REC_ERROR)
    spool.mic_stream(Z + audio_delay, voice_samples)
    # The AI speaks a short tone 1 s into the recording, as the client reported.
    spool.ai(0, Z + 0.9, tone(700, 0.3, amplitude=5000), played=Z + 1.0).end()
    return video, read_session(spool.writer.directory)


def test_correlate_recovers_a_known_lag_with_subsample_precision():
    sig = speechlike(2.0, seed=9).astype(np.float64)
    max_lag = 2400
    ref = np.zeros(len(sig) + 2 * max_lag)
    ref[max_lag + 137 : max_lag + 137 + len(sig)] = sig
    lag, frac, peak = correlate(ref, sig, max_lag)
    assert lag == 137 and abs(frac) < 0.5 and peak > 0.99


def test_alignment_recovers_true_offset_within_2ms_h264(tmp_path, interview):
    video, session = build_case(tmp_path, interview.pk, codec="h264", audio_delay=0.05)
    result = measure(session, video)
    assert result.used == "measured" and result.confidence > 0.8
    assert result.estimate == pytest.approx(Z + REC_ERROR)
    assert abs(result.zero - Z) < 0.002


def test_alignment_reads_the_webm_audio_start_time(tmp_path, interview):
    """Two WebMs whose audio starts 120 ms apart: a decode that ignores the audio's
    start time would measure the same zero for both."""
    a_video, a_session = build_case(
        tmp_path, interview.pk, codec="vp8", audio_delay=0.0, session="a"
    )
    b_video, b_session = build_case(
        tmp_path, interview.pk, codec="vp8", audio_delay=0.12, session="b"
    )
    a, b = measure(a_session, a_video), measure(b_session, b_video)
    assert a.used == b.used == "measured"
    assert abs(a.zero - Z) < 0.010 and abs(b.zero - Z) < 0.010  # the WebM muxer's own rounding
    assert abs((b.audio_start - a.audio_start) - 0.12) < 0.002
    assert abs(a.zero - b.zero) < 0.002


def test_silent_candidate_falls_back_to_recording_started(tmp_path, interview):
    video, session = build_case(tmp_path, interview.pk, codec="vp8", voice=False)
    result = measure(session, video)
    assert result.used == "recording_started"
    assert result.zero == pytest.approx(Z + REC_ERROR)
    assert result.confidence < 0.5


def _upload(interview, video, session_id="s1"):
    tmp = video.with_suffix(".copy")
    shutil.copy(video, tmp)
    return register_upload(interview, tmp, video.suffix.lstrip("."), session_id)


def _stream_md5(path, selector):
    out = ffmpeg.run(
        ["-v", "error", "-i", str(path), "-map", selector, "-c", "copy", "-f", "md5", "-"],
        what="md5",
    )
    return out.stdout.strip()


def _offset_ms(reference_path, other_path):
    """Where ``other``'s audio sits relative to ``reference``'s, both read with start times."""
    ref = ffmpeg.decode_audio(reference_path, SAMPLE_RATE)
    oth = ffmpeg.decode_audio(other_path, SAMPLE_RATE)
    ref_start = ffmpeg.first_frame_time(reference_path, "audio") - ffmpeg.first_frame_time(
        reference_path, "video"
    )
    oth_start = ffmpeg.first_frame_time(other_path, "audio") - ffmpeg.first_frame_time(
        other_path, "video"
    )
    max_lag = 2400
    pad = np.zeros(max_lag, dtype=np.int16)
    n = min(len(ref), len(oth)) - 2 * max_lag
    lag, frac, peak = correlate(
        np.concatenate([pad, ref, pad])[: n + 2 * max_lag], oth[:n], max_lag
    )
    assert peak > 0.5
    return ((lag + frac) / SR + ref_start - oth_start) * 1000


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_export_produces_synchronised_h264_aac_mp4(tmp_path, interview, settings, codec):
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec=codec, audio_delay=0.03)
    _upload(interview, video)
    assert run_export(interview.pk) == MediaExport.Status.DONE

    interview.refresh_from_db()
    export = MediaExport.objects.get(pk=interview.pk)
    out = settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4"
    assert interview.status == Interview.Status.EXPORTED
    assert interview.video_url == f"/media/uploads/videos/{interview.pk}.mp4"
    assert set(interview.audio_paths) == {"mic", "ai", "mixed"}
    assert export.status == "done" and export.attempts == 1 and export.video_codec == codec
    assert export.timeline_basis == "video" and export.alignment_confidence > 0.8
    assert export.alignment_source == "measured"
    assert export.recording_started_offset == pytest.approx(Z + REC_ERROR)
    assert abs(export.measured_offset - Z) < (0.002 if codec == "h264" else 0.010)

    streams = {s["codec_type"]: s for s in ffprobe_streams(out)}
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert float(streams["audio"]["start_time"]) == pytest.approx(
        float(streams["video"]["start_time"]), abs=1e-3
    )
    assert float(streams["video"]["start_time"]) == pytest.approx(0.0, abs=1e-3)
    source = {s["codec_type"]: s for s in ffprobe_streams(video)}
    src_duration = ffmpeg.stream_duration(video, "video")
    assert float(streams["video"]["duration"]) == pytest.approx(src_duration, abs=0.1)
    assert float(streams["audio"]["duration"]) == pytest.approx(src_duration, abs=0.1)
    assert source["video"]["codec_name"] == codec
    if codec == "h264":  # stream copy: the very same video packets
        assert _stream_md5(out, "0:v:0") == _stream_md5(video, "0:v:0")
    # The candidate's voice in the MP4 sits where it sits in the upload (under 2 ms).
    assert abs(_offset_ms(video, out)) < 2.0
    # The WAVs share the MP4's timeline: the mic WAV matches the MP4's audio at lag 0.
    mic = read_wav(settings.MEDIA_ROOT / interview.audio_paths["mic"])
    assert len(mic) >= round(src_duration * SR) - SR // 10
    assert not list(out.parent.glob("*.tmp"))


def test_export_waits_for_audio_until_the_session_ends(tmp_path, interview, settings, caplog):
    settings.MIX_WAIT_SECONDS = 1.5
    video, session = build_case(tmp_path, interview.pk, codec="h264")
    (session.directory / "index.jsonl").write_bytes(
        b"".join(
            line
            for line in (session.directory / "index.jsonl").read_bytes().splitlines(keepends=True)
            if b'"k":"end"' not in line
        )
    )
    _upload(interview, video)
    with caplog.at_level(logging.INFO, logger="media_export"):
        assert run_export(interview.pk) == MediaExport.Status.WAITING_FOR_AUDIO
    assert "Waiting for mixed audio…" in caplog.text
    assert MediaExport.objects.get(pk=interview.pk).status == "waiting_for_audio"
    # The session's end arrives: mixing runs and queues the export again.
    from media_export.services import mix_interview, request_mixing

    request_mixing(interview.pk, "s1")
    mix_interview(interview.pk)
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "queued"
    assert run_export(interview.pk) == MediaExport.Status.DONE


def test_ffmpeg_failure_marks_the_job_failed_with_stderr_and_no_partial_file(
    tmp_path, interview, settings
):
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec="h264")
    export = _upload(interview, video)
    target = settings.MEDIA_ROOT / export.video_upload
    data = bytearray(target.read_bytes())
    target.write_bytes(bytes(data[:64]) + b"\0" * 2000)  # ftyp intact, the rest garbage
    with pytest.raises(ffmpeg.FFmpegError):
        run_export(interview.pk)
    export.refresh_from_db()
    assert export.status == "failed" and export.error
    assert not (settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4").exists()
    assert not list((settings.MEDIA_ROOT / "uploads/videos").glob("*.tmp"))
    # A good upload later and a retry: it works.
    _upload(interview, video)
    assert run_export(interview.pk) == "done"
    export.refresh_from_db()
    assert export.attempts == 2


def test_a_session_end_after_the_export_triggers_a_new_export(tmp_path, interview, settings):
    from media_export.services import mix_interview, request_mixing

    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec="h264")
    request_mixing(interview.pk, "s1")
    _upload(interview, video)
    assert run_export(interview.pk) == "done"
    mix_interview(interview.pk)  # the mix queued by that same session end: nothing new
    assert MediaExport.objects.get(pk=interview.pk).status == "done"
    request_mixing(interview.pk, "s1")  # a resumed session ended again: more audio
    mix_interview(interview.pk)
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "queued"
    assert export.timeline_basis == "video"  # the remix kept the video's timeline


def test_export_with_the_imageio_ffmpeg_binary_and_no_ffprobe(tmp_path, interview, settings):
    """The fallback a machine without system FFmpeg uses: probing through ``ffmpeg -i``."""
    import imageio_ffmpeg

    settings.MIX_WAIT_SECONDS = 0
    settings.FFMPEG_BINARY = imageio_ffmpeg.get_ffmpeg_exe()
    ffmpeg._locate.cache_clear()
    try:
        assert ffmpeg.locate().ffprobe is None
        video, _ = build_case(tmp_path, interview.pk, codec="vp8", audio_delay=0.03)
        _upload(interview, video)
        assert run_export(interview.pk) == "done"
    finally:
        ffmpeg._locate.cache_clear()
    out = settings.MEDIA_ROOT / f"uploads/videos/{interview.pk}.mp4"
    streams = {s["codec_type"]: s for s in ffprobe_streams(out)}
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert float(streams["audio"]["start_time"]) == pytest.approx(0.0, abs=1e-3)
    assert abs(_offset_ms(video, out)) < 2.0


def test_export_of_a_silent_candidate_uses_recording_started(tmp_path, interview, settings):
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec="vp8", voice=False)
    _upload(interview, video)
    assert run_export(interview.pk) == "done"
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.alignment_source == "recording_started"
    assert export.timeline_zero == pytest.approx(Z + REC_ERROR)
    assert export.alignment_confidence < 0.5
    # The AI tone (played at Z + 1.0) sits at 1.0 - 0.025 s on the video's timeline.
    ai = read_wav(settings.MEDIA_ROOT / Interview.objects.get(pk=interview.pk).audio_paths["ai"])
    at = round((1.0 - REC_ERROR) * SR)
    expected = tone(700, 0.3, amplitude=5000)
    assert np.array_equal(ai[at : at + len(expected)], expected)
    assert not ai[:at].any()


def _claim_duration(path, seconds):
    """Rewrite the WebM header's Duration (EBML 0x4489, in ms) to claim ``seconds``."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89")
    assert at > 0, "no Duration element"
    size = data[at + 2] & 0x7F
    data[at + 3 : at + 3 + size] = struct.pack(">d" if size == 8 else ">f", seconds * 1000.0)
    path.write_bytes(bytes(data))


def test_a_header_claiming_two_hours_does_not_make_two_hours_of_wav(tmp_path, interview, settings):
    """A small WebM whose header says 7200 s: the WAVs follow the audio the server accepted."""
    settings.MIX_WAIT_SECONDS = 0
    video, _ = build_case(tmp_path, interview.pk, codec="vp8")
    _claim_duration(video, 7200)
    assert ffmpeg.probe(video).duration == pytest.approx(7200, abs=1)
    _upload(interview, video)
    assert run_export(interview.pk) == MediaExport.Status.DONE
    interview.refresh_from_db()
    for name in ("mic", "ai", "mixed"):
        wav = settings.MEDIA_ROOT / interview.audio_paths[name]
        seconds = len(read_wav(wav)) / SR
        assert seconds <= settings.CLIENT_CLOCK_SLACK_SECONDS + 10, f"{name}: {seconds:.0f} s"
