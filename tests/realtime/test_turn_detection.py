"""Silero VAD, the offline interviewer's default turn detector, and its fallback."""

import logging

import numpy as np
import pytest

from realtime.providers import silero_vad, vad
from realtime.providers.silero_vad import SileroConfig, SileroVad, TurnDetectorUnavailable
from realtime.providers.vad import EnergyVad, create_turn_detector
from realtime.resample import StreamResampler, resample_pcm16

from . import noises
from .helpers import mix, silence_pcm, speech_pcm


def run(detector, pcm):
    events = []
    for offset in range(0, len(pcm), 4800):
        events += detector.feed(pcm[offset : offset + 4800])
    return events


def test_speech_is_one_turn_with_its_times():
    words = speech_pcm()
    events = run(SileroVad(), silence_pcm(2000) + words + silence_pcm(3000))
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]
    start, stop = events
    speech_ms = len(words) / 48
    assert 1600 <= start.audio_ms <= 2100  # the first voice, less the 300 ms prefix padding
    assert abs(stop.speech_end_ms - (2000 + speech_ms)) <= 150
    assert stop.audio_ms - stop.speech_end_ms >= SileroConfig().silence_ms
    assert stop.speech_ms >= 0.8 * speech_ms and stop.modulation_db > 3


def test_a_pause_shorter_than_the_hangover_keeps_the_turn():
    words = speech_pcm("One two three.")
    pcm = silence_pcm(1000) + words + silence_pcm(600) + words + silence_pcm(1500)
    events = run(SileroVad(SileroConfig(silence_ms=900)), pcm)
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]
    events = run(SileroVad(SileroConfig(silence_ms=400)), pcm)
    assert [e.kind for e in events].count("speech_started") == 2


@pytest.mark.parametrize(
    ("noise", "level"), [("fan", -32.0), ("keyboard", -12.0), ("breathing", -32.0)]
)
def test_background_noise_alone_never_starts_a_turn(noise, level):
    assert run(SileroVad(), noises.NOISES[noise](30, level, seed=11)) == []


def test_breathing_fools_the_energy_vad_but_not_silero():
    # Why Silero is the default: every breath is a turn for the energy VAD.
    breaths = noises.breathing(20, -40.0, seed=2)
    assert len([e for e in run(EnergyVad(), breaths) if e.kind == "speech_started"]) >= 4
    assert run(SileroVad(), breaths) == []


def test_speech_over_a_fan_is_found():
    voice = silence_pcm(1500) + speech_pcm() + silence_pcm(2500)
    events = run(SileroVad(), mix(voice, noises.fan(8, -32.0)))
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]


def test_a_model_that_fails_its_checksum_falls_back_to_energy(tmp_path, monkeypatch, caplog):
    damaged = tmp_path / "silero_vad_v6.onnx"
    damaged.write_bytes(silero_vad.silero_model_path().read_bytes()[:-1] + b"\0")
    with pytest.raises(TurnDetectorUnavailable, match="SHA-256"):
        silero_vad.silero_session(damaged)
    monkeypatch.setattr(silero_vad, "_silero_session", None)
    monkeypatch.setattr(silero_vad, "silero_model_path", lambda: damaged)
    monkeypatch.setattr(vad, "_fallback_logged", False)
    with caplog.at_level(logging.ERROR, logger="realtime.providers.vad"):
        first = create_turn_detector("silero")
        second = create_turn_detector("silero")
    assert isinstance(first, EnergyVad) and isinstance(second, EnergyVad)
    assert len(caplog.records) == 1 and "energy VAD" in caplog.records[0].getMessage()


def test_unknown_detector_names_are_refused():
    with pytest.raises(ValueError, match="Unknown turn detector"):
        create_turn_detector("psychic")


@pytest.mark.parametrize("block", [1, 7, 2400, 4801])
def test_the_stream_resampler_equals_the_whole_signal_filter(block):
    rng = np.random.default_rng(block)
    x = rng.normal(0, 3000, 24000).astype("<i2")
    whole = resample_pcm16(x, 24000, 16000).astype(np.float64) / 32768
    resampler = StreamResampler(24000, 16000)
    pieces = [resampler.feed_pcm16(x[i : i + block].tobytes()) for i in range(0, len(x), block)]
    streamed = np.concatenate([*pieces, resampler.flush()])
    assert len(streamed) == len(whole) == 16000
    assert np.abs(streamed - whole).max() <= 1 / 32768  # int16 rounding of the whole-signal one
