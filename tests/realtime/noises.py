"""Background noises a candidate's microphone picks up, made with SoX at 24 kHz PCM16.

- ``fan``: a desk fan: pink noise with its top cut (the airflow) and a 120 Hz hum.
- ``keyboard``: typing: each key a bright click down and a softer one up, 4-8 keys
  a second in words of 3-8 keys, with short rests between words.
- ``breathing``: close-microphone breaths: band-limited noise swelling in and out
  every 3.3 s (about 18 breaths a minute).

Each returns ``seconds`` of audio scaled so its RMS level is ``dbfs`` (keyboard: its
clicks' peak). The turn detectors are measured against these (``bench/turn_detection.py``)
and the tests check the defaults stay quiet on them.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

RATE = 24000


def sox(*effects: str, seconds: float) -> np.ndarray:
    """``sox -n`` rendering ``seconds`` of the given synth/effect chain, as float64."""
    binary = shutil.which("sox")
    if binary is None:
        raise RuntimeError("sox is not installed (apt-get install sox)")
    output = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", "-"]
    raw = subprocess.run(
        [binary, "-n", *output, "synth", f"{seconds:.3f}", *effects],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0


def _at_rms(x: np.ndarray, dbfs: float) -> bytes:
    rms = np.sqrt(np.mean(x * x)) or 1.0
    return _pcm(x * (10 ** (dbfs / 20) / rms))


def _pcm(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32768), -32768, 32767).astype("<i2").tobytes()


def fan(seconds: float, dbfs: float = -40.0, seed: int = 1) -> bytes:
    air = sox("pinknoise", "lowpass", "1200", "repeat", "0", seconds=seconds)
    hum = sox("sine", "120", seconds=seconds)
    n = min(len(air), len(hum))
    rng = np.random.default_rng(seed)
    air = np.roll(air[:n], int(rng.integers(0, n)))  # a different stretch per seed
    return _at_rms(air / np.std(air) + 0.3 * hum[:n] / np.std(hum), dbfs)


def keyboard(seconds: float, dbfs: float = -20.0, seed: int = 1) -> bytes:
    # A key: a bright 15 ms click going down and a softer one coming up 50-90 ms later.
    click = sox(
        "whitenoise", "band", "3000", "2000", "fade", "q", "0", "0.015", "0.014", seconds=0.015
    )
    click = click / np.abs(click).max()
    out = np.zeros(int(seconds * RATE))
    rng = np.random.default_rng(seed)
    t = 0.2
    while t < seconds - 0.2:
        for _ in range(int(rng.integers(3, 9))):  # a word: 3-8 keys, 4-8 keys a second
            for at, gain in ((t, rng.uniform(0.6, 1.0)), (t + rng.uniform(0.05, 0.09), 0.5)):
                i = int(at * RATE)
                n = min(len(click), len(out) - i)
                out[i : i + n] += gain * click[:n]
            t += rng.uniform(0.12, 0.25)
        t += rng.uniform(0.2, 0.8)  # the space bar, a pause to think
    return _pcm(out * 10 ** (dbfs / 20))


def breathing(seconds: float, dbfs: float = -35.0, seed: int = 1) -> bytes:
    # tremolo at 0.3 Hz, full depth: a breath swells and fades every ~3.3 s.
    rng = np.random.default_rng(seed)
    phase = float(rng.uniform(0, 3))
    air = sox("pinknoise", "band", "900", "1400", "tremolo", "0.3", "100", seconds=seconds + phase)
    return _at_rms(air[int(phase * RATE) :], dbfs)


NOISES = {"fan": fan, "keyboard": keyboard, "breathing": breathing}
