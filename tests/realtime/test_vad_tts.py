"""The offline interviewer's ears and voice: energy VAD and eSpeak NG at 24 kHz."""

import numpy as np
import pytest

from realtime.providers.tts import EspeakSynthesizer, resample_pcm16
from realtime.providers.vad import EnergyVad, VadConfig

from .helpers import mix, noise_pcm, silence_pcm, speech_pcm


def run(vad, pcm):
    events = []
    for offset in range(0, len(pcm), 4800):
        events += vad.feed(pcm[offset : offset + 4800])
    return events


def test_speech_in_steady_noise_is_one_turn():
    noise = noise_pcm(9000, dbfs=-40)
    voice = silence_pcm(2000) + speech_pcm() + silence_pcm(9000)
    events = run(EnergyVad(VadConfig(silence_ms=800)), mix(voice, noise))
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]
    start, stop = events
    assert 1500 <= start.audio_ms <= 2100  # onset minus the 300 ms prefix padding
    assert stop.audio_ms - stop.speech_end_ms >= 800  # the hangover
    assert stop.modulation_db > 3


def test_steady_noise_alone_is_never_speech():
    assert run(EnergyVad(), noise_pcm(8000, dbfs=-30)) == []


def test_pauses_shorter_than_the_hangover_keep_the_turn():
    words = speech_pcm("One two three.")
    pcm = silence_pcm(1000) + words + silence_pcm(600) + words + silence_pcm(1500)
    events = run(EnergyVad(VadConfig(silence_ms=1000)), pcm)
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]


def test_short_clicks_are_not_speech():
    click = np.zeros(2400, dtype="<i2")
    click[:480] = 20000
    pcm = silence_pcm(1000) + click.tobytes() * 3 + silence_pcm(2000)
    assert run(EnergyVad(VadConfig(min_speech_ms=200)), pcm) == []


@pytest.mark.parametrize(("freq", "gain"), [(300, 1.0), (1000, 1.0), (4000, 1.0), (8000, 1.0)])
def test_resampler_keeps_the_band(freq, gain):
    t = np.arange(22050) / 22050
    x = (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    y = resample_pcm16(x, 22050, 24000)
    assert len(y) == 24000
    ref = 8000 * np.sin(2 * np.pi * freq * np.arange(len(y)) / 24000)
    core = slice(200, -200)
    err = np.sqrt(np.mean((y[core] - ref[core]) ** 2)) / 8000
    assert err < 0.02 * gain  # in phase, no delay, within 2 %


def test_resampler_does_not_alias_above_nyquist():
    # 14 kHz at 44.1 kHz → 24 kHz must be removed (it would fold down to 10 kHz).
    t = np.arange(44100) / 44100
    x = (8000 * np.sin(2 * np.pi * 14000 * t)).astype("<i2")
    y = resample_pcm16(x, 44100, 24000)
    assert np.abs(y[200:-200]).max() < 8000 * 0.05


def test_espeak_speaks_at_24khz_with_word_timings():
    speech = EspeakSynthesizer().synthesize("Hello there, tell me about yourself.")
    samples = np.frombuffer(speech.pcm, "<i2")
    assert 1500 < speech.duration_ms < 5000 and np.abs(samples).max() > 3000
    assert [speech.text[w.start_char : w.end_char] for w in speech.words][:2] == ["Hello", "there"]
    assert speech.text_until(0.1) == "Hello"
    assert speech.text_until(speech.duration_ms) == "Hello there, tell me about yourself"
