"""The MP4's AAC audio, encoded a minute at a time so most of it is ready before the End.

Encoding an hour of speech to AAC takes FFmpeg's native encoder about 17 s of one core,
longer than the whole End-to-MP4 budget. The track is therefore cut into chunks of
``CHUNK_FRAMES`` AAC frames (about 60 s) that are encoded independently and joined at the
packet level:

- chunk ``k`` covers samples ``[k*L, (k+1)*L)`` of the mixed WAV. It is encoded with
  ``PAD_FRAMES`` frames of real audio before and after it, and only the packets that decode
  its own samples are kept, so every kept frame was encoded with its true neighbours and the
  encoder's state had settled: the joined track differs from one long encode by 60 dB below
  the signal with 1.7 s chunks, 94 dB with 8.5 s ones (2 frames of padding gave 42 / 54 dB);
- packet ``j`` of an encode decodes input samples ``[(j-1)*1024, j*1024)`` (the encoder's
  1024 priming samples come first), which is how the kept range is found;
- the joined ADTS stream keeps chunk 0's priming packet, so it starts 1024 samples early:
  ``PRIMING_SECONDS`` is what the muxer shifts it by (FFmpeg then writes the MP4 edit list
  just as it does when it encodes the WAV itself).

Each encoded chunk is cached under the SHA-256 of exactly the samples it was made from (and
the encoder settings), so a chunk is reused only when its input is bit-identical. While the
interview runs the export worker fills the cache (``preencode``); at the End only the chunks
whose audio changed, normally the last one, are encoded, on every core at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from django.conf import settings

from . import ffmpeg
from .spool import SAMPLE_RATE

logger = logging.getLogger("media_export")

FRAME = 1024  # samples per AAC frame
CHUNK_FRAMES = 1406  # ~60 s at 24 kHz
CHUNK = FRAME * CHUNK_FRAMES
PAD_FRAMES = (
    8  # after 8 frames the encoder's state no longer shows (measured: 60-94 dB to one encode)
)
PAD = FRAME * PAD_FRAMES
PRIMING_SECONDS = FRAME / SAMPLE_RATE
#: The MP4's audio codec settings; also part of every cache key. Mono 24 kHz speech: 96 kb/s
#: AAC is transparent, and the "fast" coder is ~3x quicker than the default two-loop search.
AAC_ARGS = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "96k"]


def cache_dir(interview_id: int) -> Path:
    return Path(settings.VAR_DIR) / "audio-chunks" / str(int(interview_id))


def drop_cache(interview_id: int) -> None:
    shutil.rmtree(cache_dir(interview_id), ignore_errors=True)


def _data_offset(path: Path) -> int:
    """Where the RIFF ``data`` chunk's samples begin."""
    with open(path, "rb") as fh:
        fh.seek(12)
        while header := fh.read(8):
            if len(header) < 8:
                break
            size = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                return fh.tell()
            fh.seek(size + (size & 1), os.SEEK_CUR)
    raise ValueError(f"{path.name} has no data chunk")


def read_samples(path: Path) -> np.ndarray:
    """The int16 samples of a WAV written by the mixer (24 kHz mono PCM16), memory-mapped."""
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path.name} is not 24 kHz mono PCM16")
        frames = w.getnframes()
    if frames == 0:
        return np.zeros(0, dtype="<i2")
    return np.memmap(path, dtype="<i2", mode="r", offset=_data_offset(path), shape=(frames,))


def chunk_bounds(k: int, n: int | None) -> tuple[int, int, int, int]:
    """(input lo, input hi, chunk start, chunk end) in samples for chunk ``k`` of a track of
    ``n`` samples (``None``: a track still growing, of which chunk ``k`` is not the last)."""
    start = k * CHUNK
    end = (k + 1) * CHUNK if n is None else min(n, (k + 1) * CHUNK)
    hi = end + PAD if n is None else min(n, end + PAD)
    return max(0, start - PAD), hi, start, end


def chunk_key(padded: np.ndarray, k: int, head: int, length: int, is_last: bool) -> str:
    """What chunk ``k`` is made from: its padded input, its place and the encoder settings."""
    digest = hashlib.sha256()
    digest.update(repr((AAC_ARGS, SAMPLE_RATE, k, head, length, is_last)).encode())
    digest.update(np.ascontiguousarray(padded).tobytes())
    return digest.hexdigest()


def adts_frames(data: bytes) -> list[bytes]:
    """Split an ADTS stream into its frames (the length is in each 7-byte header)."""
    frames, i = [], 0
    while i < len(data):
        if i + 7 > len(data) or data[i] != 0xFF or (data[i + 1] & 0xF0) != 0xF0:
            raise ffmpeg.FFmpegError("the AAC encoder wrote an unexpected stream", "")
        size = ((data[i + 3] & 0x03) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        if size < 7:
            raise ffmpeg.FFmpegError("the AAC encoder wrote an unexpected stream", "")
        frames.append(data[i : i + size])
        i += size
    return frames


def _encode(pcm: np.ndarray) -> bytes:
    args = ["-v", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0"]
    args += [*AAC_ARGS, "-f", "adts", "pipe:1"]
    pcm_bytes = np.ascontiguousarray(pcm).tobytes()
    return ffmpeg.run(args, what="encoding AAC", timeout=600, stdin=pcm_bytes).stdout


def encode_padded(padded: np.ndarray, k: int, head: int, length: int, is_last: bool) -> bytes:
    """The ADTS frames that decode exactly the ``length`` samples after ``head`` of ``padded``
    (chunk 0 keeps the priming frame; the last chunk keeps the encoder's final frames)."""
    frames = adts_frames(_encode(padded))
    first = 0 if k == 0 else head // FRAME + 1
    last = len(frames) - 1 if is_last else (head + length + FRAME - 1) // FRAME
    return b"".join(frames[first : last + 1])


def cached_chunk(directory: Path, key: str) -> Path:
    return directory / f"{key}.aac"


def store_chunk(
    directory: Path, padded: np.ndarray, k: int, head: int, length: int, is_last: bool
) -> int:
    """Encode chunk ``k`` into the cache unless it is there; 1 when it was encoded."""
    key = chunk_key(padded, k, head, length, is_last)
    target = cached_chunk(directory, key)
    if target.exists():
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{key}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(encode_padded(padded, k, head, length, is_last))
    os.replace(tmp, target)
    return 1


def encode_track(wav: Path, output: Path, directory: Path, workers: int | None = None) -> int:
    """Write the AAC (ADTS) track of ``wav`` to ``output``; returns the chunks encoded now.

    The stream starts ``PRIMING_SECONDS`` before the WAV's sample 0. Missing chunks are
    encoded on ``workers`` FFmpeg processes at once (default: one per core).
    """
    samples = read_samples(wav)
    n = len(samples)
    if not n:
        raise ffmpeg.FFmpegError("the mixed audio is empty", "")
    count = -(-n // CHUNK)
    keys: list[str] = []
    todo = []
    for k in range(count):
        lo, hi, start, end = chunk_bounds(k, n)
        args = (samples[lo:hi], k, start - lo, end - start, end == n)
        keys.append(chunk_key(*args))
        if not cached_chunk(directory, keys[-1]).exists():
            todo.append(args)
    if todo:
        with ThreadPoolExecutor(max(1, min(workers or os.cpu_count() or 1, len(todo)))) as pool:
            list(pool.map(lambda args: store_chunk(directory, *args), todo))
    with open(output, "wb") as out:
        for key in keys:
            with open(cached_chunk(directory, key), "rb") as fh:
                shutil.copyfileobj(fh, out)
    logger.info(
        "AAC track: %d chunks, %d encoded now, %d from the cache",
        count,
        len(todo),
        count - len(todo),
    )
    return len(todo)
