"""Rendering a timeline into the three WAVs: numpy places, pydub segments are written.

Chunks are copied in *runs*: consecutive chunks that are contiguous both in
the PCM file and on the timeline are one slice, so the Python loop is over
discontinuities, never over samples. The timeline is rendered block by block
(20 s) into small reused buffers, so an hour-long interview touches a few MB
of fresh memory instead of gigabytes, and every block goes straight to the
three files. Tracks accumulate in int32, so overlaps sum exactly; a soft
limiter above -1 dBFS keeps sums inside int16 without wrapping and leaves every
sample below the knee bit-exact. Mic bleed-in (the AI heard through the
candidate's speakers) is left in the mic track on purpose.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spool import SAMPLE_RATE, SessionSpool
from .timeline import Placement, Timeline

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # "Couldn't find ffmpeg": not needed for WAV
    from pydub import AudioSegment

INT16_MAX = 32767
KNEE = round(0.891 * INT16_MAX)  # -1 dBFS: samples below it are never touched
TRACKS = ("mic", "ai", "mixed")
FRAME = SAMPLE_RATE // 20  # 50 ms energy frames for the timeline picture
BLOCK = FRAME * 400  # 20 s of audio per rendering step
SOURCE_SLACK = 4  # read a block's source range at once when it is at most this many blocks


def _pcm(path: Path) -> np.ndarray:
    if not path.exists() or path.stat().st_size < 2:
        return np.zeros(0, dtype="<i2")
    return np.memmap(path, dtype="<i2", mode="r")


@dataclass
class Runs:
    """Maximal contiguous copies, sorted by destination."""

    src: np.ndarray
    dst: np.ndarray
    length: np.ndarray
    longest: int

    @classmethod
    def from_placement(cls, placement: Placement, available: int, total: int) -> Runs:
        src, n, dst = placement.src, placement.length, placement.dst
        # Clip each chunk to its file (defensive) and to [0, total) on the timeline.
        n = np.minimum(n, np.maximum(available - src, 0))
        head = np.clip(-dst, 0, None)
        src, dst, n = src + head, dst + head, n - head
        n = np.minimum(n, np.maximum(total - dst, 0))
        keep = n > 0
        src, dst, n = src[keep], dst[keep], n[keep]
        if not len(n):
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty.copy(), empty.copy(), 0)
        # A chunk continues the previous one when both its source and its
        # destination start exactly where the previous chunk ended.
        breaks = np.ones(len(n), dtype=bool)
        breaks[1:] = (src[1:] != src[:-1] + n[:-1]) | (dst[1:] != dst[:-1] + n[:-1])
        starts = np.flatnonzero(breaks)
        src, dst, n = src[starts], dst[starts], np.add.reduceat(n, starts)
        order = np.argsort(dst, kind="stable")
        return cls(src[order], dst[order], n[order], int(n.max()))


class _TrackRenderer:
    """Fills int32 blocks of one track from its PCM file."""

    def __init__(self, pcm_path: Path, placement: Placement, total: int, block: int):
        self.path = Path(pcm_path)
        size = self.path.stat().st_size // 2 if self.path.exists() else 0
        self.runs = Runs.from_placement(placement, size, total)
        self.buffer = np.empty(block * SOURCE_SLACK, dtype="<i2")
        self._file = open(self.path, "rb") if size else None  # noqa: SIM115 - closed in close()
        self._mapped: np.ndarray | None = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _source(self, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """Samples [lo, hi) of the file: copied into the reused buffer when they fit."""
        if hi - lo <= len(self.buffer):
            view = memoryview(self.buffer[: hi - lo]).cast("B")
            self._file.seek(lo * 2)
            got = self._file.readinto(view)
            if got != (hi - lo) * 2:
                raise OSError(f"{self.path} is shorter than its index says")
            return self.buffer, lo
        if self._mapped is None:  # pathological ordering: fall back to a mapping
            self._mapped = np.memmap(self.path, dtype="<i2", mode="r")
        return self._mapped, 0

    def fill(self, acc: np.ndarray, b0: int, b1: int) -> None:
        acc[: b1 - b0] = 0
        self.add(acc, b0, b1)

    def add(self, acc: np.ndarray, b0: int, b1: int) -> None:
        """Sum this track's samples of timeline [b0, b1) into ``acc`` (another layer may be there)."""
        runs = self.runs
        if not len(runs.dst):
            return
        i0 = int(np.searchsorted(runs.dst, b0 - runs.longest, "left"))
        i1 = int(np.searchsorted(runs.dst, b1, "left"))
        if i1 <= i0:
            return
        dst, n, src = runs.dst[i0:i1], runs.length[i0:i1], runs.src[i0:i1]
        keep = dst + n > b0
        if not keep.all():
            dst, n, src = dst[keep], n[keep], src[keep]
            if not len(dst):
                return
        lo = np.maximum(dst, b0)
        hi = np.minimum(dst + n, b1)
        src = src + (lo - dst)
        source, base = self._source(int(src.min()), int((src + hi - lo).max()))
        src = src - base
        for s, a, b in zip(src.tolist(), (lo - b0).tolist(), (hi - b0).tolist(), strict=True):
            acc[a:b] += source[s : s + b - a]


def place(pcm: np.ndarray, placement: Placement, total: int) -> np.ndarray:
    """Sum the placed chunks into one int32 array of ``total`` samples (small spans)."""
    acc = np.zeros(total, dtype=np.int32)
    runs = Runs.from_placement(placement, len(pcm), total)
    for s, d, k in zip(runs.src.tolist(), runs.dst.tolist(), runs.length.tolist(), strict=True):
        acc[d : d + k] += pcm[s : s + k]
    return acc


def limit(acc: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """int32 sum -> int16 without wrap-around: a tanh knee above -1 dBFS."""
    if out is None:
        out = np.empty(len(acc), dtype=np.int16)
    np.copyto(out, acc, casting="unsafe")
    if not len(acc):
        return out
    peak = max(int(acc.max()), -int(acc.min()))
    if peak <= KNEE:
        return out
    over = np.flatnonzero((acc > KNEE) | (acc < -KNEE))
    x = acc[over].astype(np.float64)
    room = INT16_MAX - KNEE
    shaped = KNEE + room * np.tanh((np.abs(x) - KNEE) / room)
    out[over] = (np.sign(x) * np.minimum(np.rint(shaped), INT16_MAX)).astype(np.int16)
    return out


@dataclass
class Block:
    start: int  # first sample of the block on the timeline
    mic: np.ndarray  # int16 views, valid until the next block
    ai: np.ndarray
    mixed: np.ndarray


#: One session's spool and where its chunks land: several are summed into one set of WAVs
#: when an interview's page was reloaded (every page load is a session on the same clock).
Layer = tuple[SessionSpool, Timeline]


def iter_blocks(
    spool: SessionSpool, timeline: Timeline, total: int, block: int = BLOCK
) -> Iterator[Block]:
    """Render ``total`` samples of the three tracks, one block at a time."""
    return iter_layers([(spool, timeline)], total, block)


def iter_layers(layers: Sequence[Layer], total: int, block: int = BLOCK) -> Iterator[Block]:
    """Render ``total`` samples of the layers' summed tracks, one block at a time.

    Layers sum in int32 before the limiter, exactly as overlapping chunks of one spool do.
    """
    mics = [_TrackRenderer(spool.mic_path, tl.mic, total, block) for spool, tl in layers]
    ais = [_TrackRenderer(spool.ai_path, tl.ai, total, block) for spool, tl in layers]
    acc_mic = np.empty(block, dtype=np.int32)
    acc_ai = np.empty(block, dtype=np.int32)
    out = {name: np.empty(block, dtype=np.int16) for name in TRACKS}
    try:
        for b0 in range(0, total, block):
            b1 = min(b0 + block, total)
            k = b1 - b0
            acc_mic[:k] = 0
            acc_ai[:k] = 0
            for mic in mics:
                mic.add(acc_mic, b0, b1)
            for ai in ais:
                ai.add(acc_ai, b0, b1)
            limit(acc_mic[:k], out["mic"][:k])
            limit(acc_ai[:k], out["ai"][:k])
            acc_mic[:k] += acc_ai[:k]
            limit(acc_mic[:k], out["mixed"][:k])
            yield Block(b0, out["mic"][:k], out["ai"][:k], out["mixed"][:k])
    finally:
        for renderer in (*mics, *ais):
            renderer.close()


@dataclass
class RenderedTracks:
    mic: np.ndarray
    ai: np.ndarray
    mixed: np.ndarray


def render(spool: SessionSpool, timeline: Timeline, min_length: int = 0) -> RenderedTracks:
    """The three tracks as whole int16 arrays (tests, short spans)."""
    total = max(timeline.length, min_length)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in TRACKS}
    for blk in iter_blocks(spool, timeline, total):
        for name in TRACKS:
            parts[name].append(getattr(blk, name).copy())
    joined = {
        name: np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        for name, chunks in parts.items()
    }
    return RenderedTracks(**joined)


def frame_rms(samples: np.ndarray) -> np.ndarray:
    """RMS of each whole 50 ms frame, in int16 units (float32)."""
    frames = len(samples) // FRAME
    x = samples[: frames * FRAME].astype(np.float32).reshape(frames, FRAME)
    return np.sqrt(np.einsum("ij,ij->i", x, x) / FRAME)


class _WavSink:
    """A WAV written incrementally, the way pydub's ``export`` writes one (``wave``)."""

    def __init__(self, path: Path):
        self.path = path
        fd, self.tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav.tmp", dir=path.parent)
        self._fh = os.fdopen(fd, "wb")
        self._wav = wave.open(self._fh, "wb")  # noqa: SIM115 - closed in finish()/abort()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)

    def write(self, samples: np.ndarray) -> None:
        segment = AudioSegment(
            data=memoryview(samples).cast("B"), sample_width=2, frame_rate=SAMPLE_RATE, channels=1
        )
        self._wav.writeframesraw(segment.raw_data)

    def finish(self) -> None:
        self._wav.close()  # patches the header with the final length
        self._fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self._fh.close()
        finally:
            Path(self.tmp).unlink(missing_ok=True)


@dataclass
class MixFiles:
    paths: dict[str, Path]
    samples: int
    mic_frame_rms: np.ndarray


def mix_to_files(
    spool: SessionSpool, timeline: Timeline, directory: Path, stem: str, min_length: int = 0
) -> MixFiles:
    """Render and write ``<stem>_mic.wav``, ``<stem>_ai.wav``, ``<stem>_mixed.wav`` atomically."""
    return mix_layers_to_files([(spool, timeline)], directory, stem, min_length)


def mix_layers_to_files(
    layers: Sequence[Layer], directory: Path, stem: str, min_length: int = 0
) -> MixFiles:
    """``mix_to_files`` for several sessions on one timeline: their tracks summed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    total = max([min_length, *(timeline.length for _spool, timeline in layers)])
    sinks = {name: _WavSink(directory / f"{stem}_{name}.wav") for name in TRACKS}
    energies: list[np.ndarray] = []
    try:
        for blk in iter_layers(layers, total):
            for name, sink in sinks.items():
                sink.write(getattr(blk, name))
            energies.append(frame_rms(blk.mic))
        for sink in sinks.values():
            sink.finish()
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    rms = np.concatenate(energies) if energies else np.zeros(0, dtype=np.float32)
    return MixFiles({name: sink.path for name, sink in sinks.items()}, total, rms)


def read_wav(path: Path) -> np.ndarray:
    """A WAV written here, back as int16 samples (via pydub)."""
    segment = AudioSegment.from_file(path, format="wav")
    if segment.frame_rate != SAMPLE_RATE or segment.channels != 1 or segment.sample_width != 2:
        raise ValueError(f"{path} is not 24 kHz mono PCM16")
    return np.frombuffer(segment.raw_data, dtype="<i2")
