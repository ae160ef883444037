"""The ruler is checked before it measures the product: synthetic signals with known offsets."""

import shutil
import subprocess

import numpy as np
import pytest

from tests.e2e import sync_analysis as sa

SR = sa.SR
needs_ffmpeg = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")), reason="ffmpeg/ffprobe not installed"
)


def fractional_delay(x: np.ndarray, delay_samples: float) -> np.ndarray:
    """Delay a signal by a non-integer number of samples (exact, in the frequency domain)."""
    n = len(x)
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(n)
    return np.fft.irfft(spec * np.exp(-2j * np.pi * freqs * delay_samples), n)


def speechlike(seconds: float, seed: int = 1) -> np.ndarray:
    """Band-limited noise bursts: broadband enough to correlate, with silences like speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    noise = rng.standard_normal(n)
    spec = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spec[(freqs < 150) | (freqs > 4000)] = 0
    band = np.fft.irfft(spec, n)
    envelope = (np.sin(np.arange(n) / SR * 2 * np.pi * 0.7) > 0).astype(float)
    return (0.2 * band / band.std() * envelope).astype(np.float64)


def test_find_offset_measures_a_sub_sample_delay():
    ref = speechlike(4.0)
    for delay_ms in (-12.34, 0.0, 0.21, 7.77, 19.5):
        delayed = fractional_delay(ref, delay_ms / 1000 * SR)
        got = sa.find_offset(ref, delayed, max_lag=0.05)
        assert got.ms == pytest.approx(delay_ms, abs=0.02)
        assert got.score > 0.9  # at a half-sample lag, band-limited noise scores ~0.95


def test_find_offset_respects_the_search_window():
    ref = speechlike(3.0, seed=2)
    delayed = np.concatenate([np.zeros(int(0.3 * SR)), ref])[: len(ref)]
    # The true lag (300 ms) is outside ±100 ms: the search must not find it there...
    inside = sa.find_offset(ref, delayed, max_lag=0.1)
    assert abs(inside.ms - 300) > 50 and inside.score < 0.5
    # ...and finds it when the window is centred on it.
    around = sa.find_offset(ref, delayed, max_lag=0.05, center=0.3)
    assert around.ms == pytest.approx(300, abs=0.01)


def test_find_markers_locates_each_chirp_in_noise():
    rng = np.random.default_rng(3)
    mark = sa.chirp(SR)
    signal = 0.05 * rng.standard_normal(10 * SR)
    times = [0.5, 2.25, 6.1234]
    for t in times:
        start = round(t * SR)
        signal[start : start + len(mark)] += 0.5 * mark
    signal += 0.3 * speechlike(10.0, seed=4)  # speech must not look like a marker
    found = sa.find_markers(signal, mark, threshold=0.6)
    assert [round(f.seconds, 4) for f in found] == pytest.approx(times, abs=1 / SR)


def test_find_template_near_expected_position():
    track = speechlike(5.0, seed=5)
    chunk = track[int(2.0 * SR) : int(2.1 * SR)]
    got = sa.find_template(track, chunk, expected=2.03, window=0.1)
    assert got.seconds == pytest.approx(2.0, abs=1e-6)
    assert got.score == pytest.approx(1.0, abs=1e-9)


def test_place_chunks_is_sample_exact_and_rejects_chunks_before_origin():
    a = np.ones(10, np.float32)
    track = sa.place_chunks([(1.0 + 5 / SR, a), (1.0, a)], origin=1.0)
    assert track[:5].tolist() == [1.0] * 5 and track[5:10].tolist() == [2.0] * 5
    with pytest.raises(sa.AnalysisError):
        sa.place_chunks([(0.5, a)], origin=1.0)


def test_percentiles_use_absolute_values():
    stats = sa.percentiles([-3.0, 1.0, 2.0])
    assert stats["max"] == 3.0 and stats["p50"] == 2.0


def test_correlating_empty_signals_is_an_error():
    with pytest.raises(sa.AnalysisError):
        sa.find_offset(np.zeros(0), np.ones(5))


def _chirp_wav(tmp_path):
    sr = 48000
    x = np.zeros(3 * sr)
    mark = sa.chirp(sr)
    x[sr : sr + len(mark)] = 0.5 * mark
    path = tmp_path / "src.wav"
    sa.write_wav(path, x, sr)
    return path


@needs_ffmpeg
def test_decode_audio_keeps_a_late_audio_start_in_webm(tmp_path):
    """MediaRecorder's audio often starts after the first video frame: keep that gap."""
    src = _chirp_wav(tmp_path)
    out = tmp_path / "late.webm"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=30:d=3",
            "-itsoffset",
            "0.05",
            "-i",
            str(src),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-copyts",
            "-c:v",
            "libvpx",
            "-c:a",
            "libopus",
            str(out),
        ],
        check=True,
    )
    # The container's own word on where the first decoded audio sample sits.
    first_frame = sa.first_audio_frame(out)
    assert first_frame > 0.03
    found = sa.find_markers(sa.decode_audio(out), sa.chirp(SR), threshold=0.8)
    assert len(found) == 1
    assert found[0].seconds == pytest.approx(1.0 + float(first_frame), abs=0.0006)


@needs_ffmpeg
def test_decode_audio_removes_aac_priming(tmp_path):
    src = _chirp_wav(tmp_path)
    out = tmp_path / "a.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", "aac", str(out)], check=True
    )
    found = sa.find_markers(sa.decode_audio(out), sa.chirp(SR), threshold=0.8)
    assert [f.seconds for f in found] == pytest.approx([1.0], abs=0.0002)


def test_wav_round_trip_is_exact(tmp_path):
    x = (np.arange(-100, 100) / 1000).astype(np.float32)
    sa.write_wav(tmp_path / "x.wav", x, SR)
    back, rate = sa.read_wav(tmp_path / "x.wav")
    assert rate == SR
    assert np.max(np.abs(back - x)) < 1 / 32767
