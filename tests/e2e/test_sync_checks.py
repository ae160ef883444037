"""The scenario's measurements, run on synthetic files with offsets planted on purpose.

If the product's files were off by a few milliseconds, would the e2e test notice?
Here the "product" files are made by hand with known errors, and ``measure``
must report exactly those errors.
"""

import shutil
import subprocess

import numpy as np
import pytest

from tests.e2e import sync_analysis as sa
from tests.e2e.fake_mic import FakeMic
from tests.e2e.sync_checks import (
    audio_clock_lag_ms,
    consensus_offset,
    marker_residuals,
    measure,
    report,
    spool_counts,
)
from tests.e2e.wire import WireLog

SR = sa.SR
pytestmark = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")), reason="ffmpeg/ffprobe not installed"
)

VIDEO_ZERO = 1.2345  # client-clock time of the video's first frame
FILE_ZERO = 0.5  # client-clock time of the fake mic file's first sample
MIC_ERROR = 0.003  # the "product" mic track is 3 ms late
AI_ERROR = -0.002  # and its AI chunks 2 ms early
CUT_SEQ, CUT_MS = 15, 40.0


def noise(seconds: float, seed: int, level: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spec[(freqs < 150) | (freqs > 4000)] = 0
    x = np.fft.irfft(spec, n)
    return (level * x / x.std()).astype(np.float32)


def shift(track: np.ndarray, seconds: float, length: int) -> np.ndarray:
    """``out[i] = track[i + seconds*SR]`` (zero outside)."""
    out = np.zeros(length, np.float32)
    s = round(seconds * SR)
    lo, hi = max(0, -s), min(length, len(track) - s)
    out[lo:hi] = track[lo + s : hi + s]
    return out


def encode(path, audio_wav, codec_args, duration):
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=160x120:rate=30:d={duration}",
            "-i",
            str(audio_wav),
            "-map",
            "0:v",
            "-map",
            "1:a",
            *codec_args,
            "-shortest",
            str(path),
        ],
        check=True,
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    length = 16 * SR
    # The fake microphone: speech-like noise in bursts, chirps at known file times.
    markers = [2.0, 5.0, 9.0, 12.0]
    file_audio = noise(16.0, seed=1) * (np.sin(np.arange(16 * SR) / SR * 2.1) > 0.3)
    for t in markers:
        s = int(t * SR)
        file_audio[s : s + int(0.06 * SR)] += 0.4 * sa.chirp(SR)
    fake = FakeMic(path=tmp / "fake.wav", sample_rate=SR, duration=16.0, markers=markers)

    # The recording: its audio is the fake mic on the video's timeline. FFmpeg's muxer
    # may move the audio a few ms against the first video frame (Opus pre-skip, 1 ms
    # WebM ticks): read where it really put it, and let that define the true zero.
    rec_audio = shift(file_audio, VIDEO_ZERO - FILE_ZERO, 14 * SR)
    sa.write_wav(tmp / "rec.wav", rec_audio, SR)
    upload = tmp / "upload.webm"
    encode(upload, tmp / "rec.wav", ["-c:v", "libvpx", "-c:a", "libopus"], 14)
    zero = VIDEO_ZERO - (sa.first_audio_frame(upload) - sa.stream_start(sa.probe(upload), "video"))

    wire = WireLog()
    # Mic chunks as the page sent them: 100 ms each, client times 1.0 .. 15.0 s.
    for seq, t in enumerate(np.arange(1.0, 15.0, 0.1)):
        piece = shift(file_audio, t - FILE_ZERO, 2400)
        wire.mic[seq] = (float(t), (piece * 32767).astype("<i2").tobytes())
    # AI chunks: a response 3.0 .. 5.0 s cut in chunk 15, then one at 6.0 .. 6.5 s.
    scheduled, ai = [], np.zeros(length, np.float32)
    for seq in range(25):
        pcm = noise(0.1, seed=100 + seq, level=0.2)
        wire.tts[seq] = (pcm * 32767).astype("<i2").tobytes()
        pcm = sa.pcm16_to_float(wire.tts[seq])
        if seq > CUT_SEQ and seq < 20:
            continue  # never played
        start = 3.0 + 0.1 * seq if seq < 20 else 6.0 + 0.1 * (seq - 20)
        scheduled.append({"seq": seq, "start": start, "duration": 0.1})
        heard = pcm[: int(CUT_MS / 1000 * SR)] if seq == CUT_SEQ else pcm
        at = round((start - zero + AI_ERROR) * SR)
        ai[at : at + len(heard)] += heard
    telemetry = {
        "recordingStarted": zero + 0.02,
        "aiScheduled": scheduled,
        "interruptions": [{"seq": CUT_SEQ, "played_ms": CUT_MS}],
        "mimeType": "video/webm;codecs=vp8,opus",
    }
    # The "product" tracks, with the planted errors.
    mic = shift(file_audio, zero - FILE_ZERO - MIC_ERROR, length)
    mixed = 0.5 * (mic + ai)
    for name, track in (("mic", mic), ("ai", ai), ("mixed", mixed)):
        sa.write_wav(tmp / f"x_{name}.wav", track, SR)
    mp4 = tmp / "x.mp4"
    encode(mp4, tmp / "x_mixed.wav", ["-c:v", "libx264", "-c:a", "aac", "-b:a", "128k"], 14)
    files = {
        "upload": upload,
        "mic_wav": tmp / "x_mic.wav",
        "ai_wav": tmp / "x_ai.wav",
        "mixed_wav": tmp / "x_mixed.wav",
        "mp4": mp4,
    }
    return files, telemetry, wire, fake, ai, zero


def test_measure_reports_the_planted_offsets(planted):
    files, telemetry, wire, fake, _, zero = planted
    m = measure(**files, telemetry=telemetry, wire=wire, fake_mic=fake)
    assert m.codecs["mp4_video"] == ["h264"] and m.codecs["mp4_audio"] == ["aac"]
    # WebM timestamps have 1 ms resolution: the zero is good to about half of that.
    assert abs(zero - VIDEO_ZERO) < 0.02
    assert m.video_zero == pytest.approx(zero, abs=0.0007)
    assert m.video_zero_pairs == 4
    assert m.wav_zero == pytest.approx(FILE_ZERO, abs=1e-4)
    assert m.mic_offset.ms == pytest.approx(MIC_ERROR * 1000, abs=0.7)
    assert m.mic_offset.score > 0.9  # the mic's own score, whatever the AI does in the MP4
    assert len(m.placed) == 21 and not m.missing
    for chunk in m.placed:
        assert chunk.offset_ms == pytest.approx(AI_ERROR * 1000, abs=0.7)
    assert m.unheard[0]["peak_after_cut"] == 0.0
    assert m.unheard[0]["received_never_scheduled"] == [16, 17, 18, 19]
    assert m.unheard[0]["queued_never_played"] == []
    assert m.unheard[0]["next_ai_at_s"] == pytest.approx(6.0 - m.video_zero)
    assert abs(m.mixed_in_mp4.ms) < 0.2 and m.mixed_in_mp4.score > 0.95
    assert m.mp4_vs_upload.ms == pytest.approx(m.mic_offset.ms, abs=0.5)
    text = report(m)
    assert text.splitlines()[-1].startswith("SYNC mic_offset_ms=3.")


def test_measure_sees_audio_the_candidate_never_heard(planted, tmp_path):
    files, telemetry, wire, fake, ai, zero = planted
    leaked = ai.copy()
    at = round((3.0 + 0.1 * (CUT_SEQ + 1) - zero) * SR)
    leaked[at : at + 2400] += sa.pcm16_to_float(wire.tts[CUT_SEQ + 1])
    sa.write_wav(tmp_path / "leak_ai.wav", leaked, SR)
    m = measure(
        **{**files, "ai_wav": tmp_path / "leak_ai.wav"},
        telemetry=telemetry,
        wire=wire,
        fake_mic=fake,
    )
    assert m.unheard[0]["peak_after_cut"] > 0.05


def test_measure_flags_a_chunk_that_is_not_where_the_client_heard_it(planted, tmp_path):
    files, telemetry, wire, fake, ai, zero = planted
    moved = ai.copy()
    start = round((3.0 + 0.1 * 5 - zero + AI_ERROR) * SR)
    moved[start : start + 2400] = 0  # chunk 5 removed from its place...
    moved[start + 480 : start + 2880] += sa.pcm16_to_float(wire.tts[5])  # ...and put 20 ms late
    sa.write_wav(tmp_path / "moved_ai.wav", moved, SR)
    m = measure(
        **{**files, "ai_wav": tmp_path / "moved_ai.wav"},
        telemetry=telemetry,
        wire=wire,
        fake_mic=fake,
    )
    by_seq = {c.seq: c for c in m.chunks}
    assert by_seq[5].offset_ms == pytest.approx(AI_ERROR * 1000 + 20, abs=0.7)
    assert m.ai_stats()["max"] == pytest.approx(18, abs=0.7)


def test_chunks_queued_behind_a_cut_count_as_never_heard(planted):
    """The page reports chunks as it queues them; those behind the cut were never heard."""
    files, telemetry, wire, fake, _, _ = planted
    queued = [{"seq": s, "start": 3.0 + 0.1 * s, "duration": 0.1} for s in range(CUT_SEQ + 1, 20)]
    scheduled = sorted(telemetry["aiScheduled"] + queued, key=lambda s: s["seq"])
    m = measure(
        **files, telemetry={**telemetry, "aiScheduled": scheduled}, wire=wire, fake_mic=fake
    )
    assert m.unheard[0]["queued_never_played"] == [16, 17, 18, 19]
    assert m.unheard[0]["received_never_scheduled"] == []
    assert not m.missing and len(m.placed) == 21
    assert m.unheard[0]["peak_after_cut"] == 0.0 and m.unheard[0]["checked_s"] > 0.9


STEP_AT, STEP = 7.0, 0.2  # the recording's audio timestamps jump 200 ms at 7 s (6 frames)


@pytest.fixture(scope="module")
def stepped(planted):
    """The planted upload again, its audio timestamps jumping by ``STEP`` at ``STEP_AT`` (the
    samples run on, as Chromium's do under load), and an MP4 whose pictures follow the step."""
    files, *_ = planted
    tmp = files["upload"].parent
    upload = tmp / "stepped.webm"
    jump = f"asetpts='if(gte(T,{STEP_AT}),PTS+{STEP}/TB,PTS)'"
    encode(upload, tmp / "rec.wav", ["-af", jump, "-c:v", "libvpx", "-c:a", "libopus"], 14)
    followed = tmp / "followed.mp4"
    cut = (
        f"[0:v]split[a][b];[a]trim=end={STEP_AT}[a1];"
        f"[b]trim=start={STEP_AT + STEP},setpts=PTS-STARTPTS[b1];[a1][b1]concat[v]"
    )
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30:d=14"]
    args += ["-i", str(tmp / "x_mixed.wav"), "-filter_complex", cut, "-map", "[v]", "-map", "1:a"]
    args += ["-c:v", "libx264", "-c:a", "aac", "-b:a", "128k", "-t", "13.8", str(followed)]
    subprocess.run(args, check=True)
    return {**files, "upload": upload}, followed


def test_measure_follows_a_step_the_mp4_follows(planted, stepped):
    """A step in the recording that the MP4's pictures follow: in sync on both sides of it."""
    _, telemetry, wire, fake, _, zero = planted
    files, followed = stepped
    m = measure(**{**files, "mp4": followed}, telemetry=telemetry, wire=wire, fake_mic=fake)
    sounds = sorted({round(w.sound_ms / 10) * 10 for w in m.windows})
    assert sounds == [-200, 0]  # the step is there, in the recording's audio
    assert m.mic_offset.ms == pytest.approx(MIC_ERROR * 1000, abs=1.0)
    assert m.mp4_vs_upload.ms == pytest.approx(m.mic_offset.ms, abs=1.0)
    assert [n for _, _, n in m.marker_stretches] == [2, 2] and m.video_zero_pairs == 4
    assert m.video_zero == pytest.approx(zero, abs=0.0007)
    for chunk in m.placed:
        assert chunk.offset_ms == pytest.approx(AI_ERROR * 1000, abs=0.7)


def test_measure_sees_a_step_the_mp4_did_not_follow(planted, stepped):
    """The same recording under one zero (as before stretches): the later windows are off."""
    _, telemetry, wire, fake, _, _ = planted
    files, _ = stepped
    m = measure(**files, telemetry=telemetry, wire=wire, fake_mic=fake)
    assert m.mic_offset.ms == pytest.approx(-STEP * 1000 + MIC_ERROR * 1000, abs=1.5)


def test_consensus_offset_ignores_unpaired_markers():
    a = [10.0, 13.0, 20.0, 31.5]
    b = [8.0, 11.0005, 18.0, 25.0]  # 31.5 has no partner, 25.0 is noise
    shift_, pairs = consensus_offset(a, b, tolerance=0.005)
    assert shift_ == pytest.approx(2.0, abs=0.0005) and len(pairs) == 3


def test_marker_residuals_show_a_step_and_a_missing_marker():
    a = [10.0, 13.0, 20.0, 24.010, 31.5]
    b = [8.0, 11.0, 18.0, 22.0]  # the fourth marker came 10 ms late, the fifth never
    assert marker_residuals(a, b, shift=2.0) == pytest.approx([0.0, 0.0, 0.0, 10.0, None])


def test_audio_clock_lag_is_how_far_the_audio_clock_fell_behind_the_wall_clock():
    events = [
        {"type": "devices_ready", "t": None, "wall": 1000},
        {"type": "session_start", "t": 0.0, "wall": 5000},
        {"type": "state_line", "t": 10.0, "wall": 15_002},  # reading noise
        {"type": "state_line", "t": 20.0, "wall": 25_190},  # 190 ms behind
        {"type": "state_line", "t": 30.0, "wall": 35_180},
    ]
    assert audio_clock_lag_ms(events) == pytest.approx(190.0)
    assert audio_clock_lag_ms([{"t": None, "wall": 1}]) is None


def test_spool_counts_separates_telemetry_fallback_and_cut(tmp_path):
    session = tmp_path / "abc"
    session.mkdir()
    lines = [
        '{"k":"ai","seq":0,"t":1,"off":0,"n":10,"resp":"r1"}',
        '{"k":"ai","seq":1,"t":1,"off":10,"n":10,"resp":"r1"}',
        '{"k":"ai","seq":2,"t":1,"off":20,"n":10,"resp":"r1"}',
        '{"k":"ai","seq":3,"t":1,"off":30,"n":10,"resp":"r2"}',
        '{"k":"ai_played","seq":0,"t":1}',
        '{"k":"ai_played","seq":1,"t":1}',
        '{"k":"ai_played","seq":2,"t":1}',  # queued behind the cut: dropped all the same
        '{"k":"ai_cut","seq":1,"played_ms":5}',
        "torn",
    ]
    (session / "index.jsonl").write_text("\n".join(lines))
    counts = spool_counts(tmp_path)
    assert counts == {
        "ai_chunks": 4,
        "with_telemetry": 2,
        "after_cut": 1,
        "fallback": 1,
        "sessions": 1,
    }
