"""Turn detection for the offline interviewer: Silero VAD against the energy VAD.

Everything is streamed through each detector in 100 ms chunks, as the session feeds it.

1. False starts on noise alone (made with SoX, ``tests/realtime/noises.py``): a fan,
   typing and breathing, each at three levels. Counted per minute: turns the detector
   started (``speech_started``: while the interviewer talks, one of these is a
   barge-in) and turns the interviewer would take as an answer (voiced ≥ 600 ms and
   level modulation ≥ 3 dB, the ``LocalTiming`` rules).
2. Missed speech: eSpeak sentences over each noise and quiet speech alone; a sentence
   is found when one turn covers at least half of it. Also how far the turn's start
   (less the prefix padding) and its speech end fall from the sentence's.
3. Answers cut off mid-pause: two sentences with a pause of 0.5-1.2 s between them,
   clean, over a fan and over quiet breathing, for each hangover (``silence_ms``): how
   often the answer became two turns, and how long after the speech the turn ended
   (the hangover's share of the interviewer's reply latency).

Run: ``SECRET_KEY=x .venv/bin/python bench/turn_detection.py [--minutes 2]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")

import django  # noqa: E402

django.setup()

from realtime.providers.silero_vad import SileroConfig, SileroVad  # noqa: E402
from realtime.providers.tts import EspeakSynthesizer  # noqa: E402
from realtime.providers.vad import EnergyVad, VadConfig  # noqa: E402
from tests.realtime.noises import NOISES  # noqa: E402

RATE = 24000
CHUNK = 4800  # bytes: 100 ms
MIN_ANSWER_MS = 600
MIN_MODULATION_DB = 3.0
LEVELS = {"fan": (-50, -40, -32), "keyboard": (-30, -20, -12), "breathing": (-50, -40, -32)}
SPEECH_DBFS = -24.0  # RMS of the candidate's voice at the microphone
SENTENCES = [
    "I built a recorder for live interviews.",
    "Every audio chunk carries a timestamp from the browser's clock.",
    "We tested it with a fake microphone in a real browser.",
    "The hardest part was keeping the video and the audio in step.",
    "I would start by measuring where the time goes.",
    "Yes, I have led a small team before.",
    "Our service handled about two thousand requests a second.",
    "I prefer short code reviews that happen every day.",
    "No.",
    "That depends on how much data we keep.",
    "I moved from support into engineering three years ago.",
    "We wrote the migration so that it could run twice safely.",
]
VOICES = ("en-us", "en", "en-us+f3")  # American, British, a higher voice


def detectors(hangover_ms: int | None = None) -> dict:
    energy = VadConfig() if hangover_ms is None else VadConfig(silence_ms=hangover_ms)
    silero = SileroConfig() if hangover_ms is None else SileroConfig(silence_ms=hangover_ms)
    return {"energy": lambda: EnergyVad(energy), "silero": lambda: SileroVad(silero)}


def run(vad, pcm: bytes) -> list[tuple[int, int, int, int, float]]:
    """Turns as (start_ms, speech_end_ms, stop_ms, voiced_ms, modulation_db)."""
    turns, start = [], None
    for offset in range(0, len(pcm), CHUNK):
        for event in vad.feed(pcm[offset : offset + CHUNK]):
            if event.kind == "speech_started":
                start = event.audio_ms
            elif start is not None:
                turns.append(
                    (
                        start,
                        event.speech_end_ms,
                        event.audio_ms,
                        event.speech_ms,
                        event.modulation_db,
                    )
                )
                start = None
    return turns


def as_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64) / 32768.0


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32768), -32768, 32767).astype("<i2").tobytes()


def voiced(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    return x[loud[0] : loud[-1] + 1]


def speech_bank() -> list[np.ndarray]:
    """The sentences in three voices, trimmed to their sound, at SPEECH_DBFS."""
    bank = []
    for index, text in enumerate(SENTENCES):
        voice = VOICES[index % len(VOICES)]
        x = voiced(as_float(EspeakSynthesizer(voice=voice).synthesize(text).pcm))
        bank.append(x * (10 ** (SPEECH_DBFS / 20) / np.sqrt(np.mean(x * x))))
    return bank


def false_starts(minutes: float) -> list[str]:
    rows = [
        "| Noise | Level (dBFS) | Energy: started / answers per min | Silero: started / answers per min |"
    ]
    rows.append("|---|---|---|---|")
    for name, make in NOISES.items():
        for level in LEVELS[name]:
            pcm = make(minutes * 60, level, seed=7)
            cells = []
            for create in detectors().values():
                turns = run(create(), pcm)
                answers = [t for t in turns if t[3] >= MIN_ANSWER_MS and t[4] >= MIN_MODULATION_DB]
                cells.append(f"{len(turns) / minutes:.1f} / {len(answers) / minutes:.1f}")
            kind = "peak" if name == "keyboard" else "RMS"
            rows.append(f"| {name} | {level} {kind} | {cells[0]} | {cells[1]} |")
    return rows


def layout(bank: list[np.ndarray], noise: bytes | None, gap_s: float = 3.0):
    """Sentences one after another with gaps, over ``noise``; their true spans in ms."""
    gap = int(gap_s * RATE)
    total = sum(len(x) for x in bank) + gap * (len(bank) + 1)
    track = np.zeros(total)
    spans, at = [], gap
    for x in bank:
        track[at : at + len(x)] += x
        spans.append((at * 1000 // RATE, (at + len(x)) * 1000 // RATE))
        at += len(x) + gap
    if noise is not None:
        n = as_float(noise)
        track += np.resize(n, total)
    return to_pcm(track), spans


def missed_speech(bank: list[np.ndarray]) -> list[str]:
    rows = [
        "| Condition | Energy: found / onset err / end err (ms) | Silero: found / onset err / end err (ms) |",
        "|---|---|---|",
    ]
    conditions = [("quiet speech (−40 dBFS), no noise", None, -40.0)]
    for name, make in NOISES.items():
        level = LEVELS[name][2]
        conditions.append((f"{name} at {level} dBFS", make(120, level, seed=3), SPEECH_DBFS))
    for label, noise, speech_db in conditions:
        scaled = [x * 10 ** ((speech_db - SPEECH_DBFS) / 20) for x in bank]
        pcm, spans = layout(scaled, noise)
        cells = []
        for kind, create in detectors().items():
            turns = run(create(), pcm)
            padding = (VadConfig() if kind == "energy" else SileroConfig()).prefix_padding_ms
            found, onset, end = 0, [], []
            for s, e in spans:
                best = max(turns, key=lambda t: min(e, t[1]) - max(s, t[0] + padding), default=None)
                if best and min(e, best[1]) - max(s, best[0]) >= 0.5 * (e - s):
                    found += 1
                    onset.append(best[0] + padding - s)
                    end.append(best[1] - e)
            med = lambda v: f"{statistics.median(v):+.0f}" if v else "–"  # noqa: E731
            cells.append(f"{found}/{len(spans)} / {med(onset)} / {med(end)}")
        rows.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return rows


def mid_pause_splits(bank: list[np.ndarray]) -> list[str]:
    pauses = (500, 700, 800, 900, 1000, 1200)
    hangovers = (700, 900, 1000)
    # Every neighbouring pair of sentences (different voices) as one answer.
    pairs = [(bank[i], bank[i + 1]) for i in range(len(bank) - 1)]
    rows = [
        "| Detector, hangover | Noise | "
        + " | ".join(f"pause {p} ms" for p in pauses)
        + " | end of turn after speech (ms) |",
        "|---|---|" + "---|" * (len(pauses) + 1),
    ]
    noises = {
        "none": None,
        "fan −40": as_float(NOISES["fan"](60, -40.0, seed=5)),
        "breathing −50": as_float(NOISES["breathing"](60, -50.0, seed=5)),
    }
    for kind in ("energy", "silero"):
        for hangover in hangovers:
            for label, noise in noises.items():
                cells, delays = [], []
                for pause in pauses:
                    split = 0
                    for first, second in pairs:
                        gap = np.zeros(int(pause * RATE / 1000))
                        tail = np.zeros(2 * RATE)
                        x = np.concatenate([np.zeros(RATE), first, gap, second, tail])
                        if noise is not None:
                            x = x + np.resize(noise, len(x))
                        turns = run(detectors(hangover)[kind](), to_pcm(x))
                        # Breaths the energy VAD takes for turns are counted in table 1.
                        answers = [t for t in turns if t[3] >= 300]
                        split += len(answers) > 1
                        if answers:
                            speech_end = (len(x) - len(tail)) * 1000 // RATE
                            delays.append(answers[-1][2] - speech_end)
                    cells.append(f"{100 * split / len(pairs):.0f} %")
                delay = f"{statistics.median(delays):.0f}" if delays else "–"
                rows.append(f"| {kind}, {hangover} ms | {label} | {' | '.join(cells)} | {delay} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="noise per type and level")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    bank = speech_bank()
    print("\n1. False starts on noise alone (per minute)\n")
    print("\n".join(false_starts(args.minutes)))
    print("\n2. Speech found, and turn start/end against the sentence (median)\n")
    print("\n".join(missed_speech(bank)))
    print("\n3. Two-sentence answers split into two turns by the pause between them\n")
    print("\n".join(mid_pause_splits(bank)))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
