"""Locating and driving FFmpeg: the one place that builds command lines.

FFmpeg is found in this order: ``FFMPEG_BINARY``, a system ``ffmpeg`` of
version 5 or later, the binary shipped by ``imageio-ffmpeg``. ``ffprobe`` is
optional (imageio-ffmpeg has none): probing falls back to parsing ``ffmpeg -i``.
Stream start times always come from the first *decoded* frame (``showinfo``
with ``-copyts``), which is what a player presents: WebM audio often starts a
few milliseconds after the video, and Opus/AAC priming shifts it further.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

MIN_SYSTEM_MAJOR = 5
STDERR_TAIL_CHARS = 2000


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: the kernel kills FFmpeg when the worker that ran it dies,
    so a killed export worker leaves no FFmpeg behind writing to a temporary file."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


#: Keyword arguments for every FFmpeg/ffprobe child process.
CHILD = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}


class FFmpegError(RuntimeError):
    """FFmpeg failed; ``stderr_tail`` holds the end of its error output."""

    def __init__(self, message: str, stderr: str = ""):
        self.stderr_tail = stderr[-STDERR_TAIL_CHARS:]
        super().__init__(f"{message}: {self.stderr_tail.strip()}" if stderr else message)


@dataclass(frozen=True)
class FFmpegInfo:
    path: str
    version: str
    source: str  # "FFMPEG_BINARY", "system" or "imageio-ffmpeg"
    ffprobe: str | None


def _version_of(binary: str) -> str:
    out = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30)
    first = (out.stdout or "").splitlines()[0] if out.stdout else ""
    match = re.search(r"version\s+(\S+)", first)
    return match.group(1) if match else "unknown"


def _major(version: str) -> int | None:
    match = re.match(r"n?(\d+)", version)
    return int(match.group(1)) if match else None


@functools.cache
def _locate(explicit: str | None) -> FFmpegInfo:
    if explicit:
        path = shutil.which(explicit) or explicit
        if not Path(path).exists():
            raise FFmpegError(f"FFMPEG_BINARY={explicit!r} does not exist")
        return FFmpegInfo(path, _version_of(path), "FFMPEG_BINARY", _sibling_ffprobe(path))
    system = shutil.which("ffmpeg")
    if system:
        version = _version_of(system)
        major = _major(version)
        # Git builds report e.g. "N-12345-g..."; treat unknown as modern.
        if major is None or major >= MIN_SYSTEM_MAJOR:
            return FFmpegInfo(system, version, "system", _sibling_ffprobe(system))
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a pinned requirement
        raise FFmpegError("no ffmpeg >= 5 on PATH and imageio-ffmpeg is not installed") from exc
    path = imageio_ffmpeg.get_ffmpeg_exe()
    return FFmpegInfo(path, _version_of(path), "imageio-ffmpeg", None)


def _sibling_ffprobe(ffmpeg_path: str) -> str | None:
    candidate = Path(ffmpeg_path).with_name("ffprobe")
    if candidate.exists():
        return str(candidate)
    return shutil.which("ffprobe") if Path(ffmpeg_path).parent == Path("/usr/bin") else None


def locate() -> FFmpegInfo:
    return _locate(settings.FFMPEG_BINARY)


def hides_last_vfr_frame() -> bool:
    """FFmpeg before 6 gives variable-rate H.264 packets no duration: the MP4's last frame
    then lies outside its edit list, and players (and ffprobe) never show it."""
    major = _major(locate().version)
    return major is not None and major < 6


def run(
    args: list[str], *, what: str, timeout: float | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (``stdin``: bytes for ``pipe:0``); raise ``FFmpegError`` with
    the stderr tail on failure."""
    cmd = [locate().path, "-hide_banner", *(["-nostdin"] if stdin is None else []), *args]
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, **CHILD)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(
            f"{what} timed out", (exc.stderr or b"").decode(errors="replace")
        ) from exc
    if proc.returncode != 0:
        raise FFmpegError(f"{what} failed", proc.stderr.decode(errors="replace"))
    return proc


def encoders() -> set[str]:
    out = run(["-encoders"], what="listing encoders", timeout=30).stdout.decode(errors="replace")
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[VAS][.A-Z]{5}", parts[0]):
            names.add(parts[1])
    return names


# -- probing ----------------------------------------------------------------


@dataclass
class StreamInfo:
    index: int
    kind: str  # "video" or "audio"
    codec: str


@dataclass
class MediaInfo:
    duration: float | None
    streams: list[StreamInfo] = field(default_factory=list)
    start: float = 0.0  # container start time: ffmpeg subtracts it from every stream

    def first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == kind), None)

    @property
    def video_codec(self) -> str | None:
        stream = self.first("video")
        return stream.codec if stream else None


def probe(path: Path | str) -> MediaInfo:
    """Codecs and duration of a media file (ffprobe if present, else ``ffmpeg -i``)."""
    info = locate()
    if info.ffprobe:
        proc = subprocess.run(
            [
                info.ffprobe,
                "-v",
                "error",
                "-show_entries",
                "stream=index,codec_type,codec_name:format=duration,start_time",
                "-of",
                "json",
                str(path),
            ],
            capture_output=True,
            timeout=60,
            **CHILD,
        )
        if proc.returncode != 0:
            raise FFmpegError("probing failed", proc.stderr.decode(errors="replace"))
        data = json.loads(proc.stdout or b"{}")
        streams = [
            StreamInfo(int(s["index"]), s.get("codec_type", ""), s.get("codec_name", ""))
            for s in data.get("streams", [])
            if s.get("codec_type") in ("video", "audio")
        ]
        fmt = data.get("format", {})
        duration, start = fmt.get("duration"), fmt.get("start_time")
        return MediaInfo(
            float(duration) if duration not in (None, "N/A") else None,
            streams,
            float(start) if start not in (None, "N/A") else 0.0,
        )
    return _probe_with_ffmpeg(path)


_STREAM_LINE = re.compile(r"Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio): (\w+)")
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_START = re.compile(r"Duration: [^,]*, start: (-?[\d.]+)")


def _probe_with_ffmpeg(path: Path | str) -> MediaInfo:
    # ``ffmpeg -i`` with no output exits 1 by design; read its banner instead.
    proc = subprocess.run(
        [locate().path, "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        timeout=60,
        **CHILD,
    )
    text = proc.stderr.decode(errors="replace")
    if "Invalid data found" in text or "No such file" in text:
        raise FFmpegError("probing failed", text)
    streams = [
        StreamInfo(int(m.group(1)), m.group(2).lower(), m.group(3))
        for m in _STREAM_LINE.finditer(text)
    ]
    duration = None
    match = _DURATION.search(text)
    if match:
        h, m, s = match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    start = _START.search(text)
    return MediaInfo(duration, streams, float(start.group(1)) if start else 0.0)


_PTS_TIME = re.compile(r"\bn:\s*0\b.*?\bpts_time:(-?[\d.]+(?:e-?\d+)?)")


def first_frame_time(path: Path | str, kind: str) -> float | None:
    """Presentation time of the first decoded frame of the first ``kind`` stream."""
    selector, filt = ("0:v:0", "showinfo") if kind == "video" else ("0:a:0", "ashowinfo")
    args = ["-copyts", "-i", str(path), "-map", selector]
    args += ["-vf" if kind == "video" else "-af", filt]
    args += ["-frames:v" if kind == "video" else "-frames:a", "1", "-f", "null", "-"]
    proc = run(args, what=f"reading the first {kind} frame", timeout=60)
    match = _PTS_TIME.search(proc.stderr.decode(errors="replace"))
    return float(match.group(1)) if match else None


_TIME_BASE = re.compile(r"^#tb 0: (\d+)/(\d+)", re.MULTILINE)


def video_span(path: Path | str) -> float | None:
    """Seconds from the first video frame to the end of the last one, read from the packets.

    No decoding (``framecrc`` of a stream copy). A packet without a duration (MediaRecorder's
    WebM has none) is given the typical frame interval, so the last frame has its time on screen.
    """
    args = ["-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
    text = run(args, what="reading the video's packets", timeout=600).stdout.decode(
        errors="replace"
    )
    base = _TIME_BASE.search(text)
    rows = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if line.startswith("#") or len(fields) < 4:
            continue
        with contextlib.suppress(ValueError):
            rows.append((int(fields[2]), int(fields[3])))  # pts, duration
    if base is None or not rows:
        return None
    unit = int(base.group(1)) / int(base.group(2))
    starts = sorted(pts for pts, _ in rows)
    steps = sorted(b - a for a, b in itertools.pairwise(starts) if b > a)
    typical = steps[len(steps) // 2] if steps else 0
    end = max(pts + (duration or typical) for pts, duration in rows)
    return (end - starts[0]) * unit


_SIZE = re.compile(r"\bn:\s*0\b.*?\bs:(\d+)x(\d+)")


def first_frame_size(path: Path | str) -> tuple[int, int] | None:
    """Width and height of the first decoded video frame (MediaRecorder may change it later)."""
    args = ["-i", str(path), "-map", "0:v:0", "-vf", "showinfo", "-frames:v", "1", "-f", "null"]
    proc = run([*args, "-"], what="reading the first video frame's size", timeout=60)
    match = _SIZE.search(proc.stderr.decode(errors="replace"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def decode_audio(
    path: Path | str, sample_rate: int, max_seconds: float | None = None
) -> np.ndarray:
    """Decode the first audio stream to mono int16 at ``sample_rate``."""
    args = ["-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate)]
    if max_seconds is not None:
        args += ["-t", f"{max_seconds:.3f}"]
    args += ["-f", "s16le", "-"]
    proc = run(args, what="decoding the video's audio", timeout=600)
    return np.frombuffer(proc.stdout, dtype="<i2")


_TIME = re.compile(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)")


def stream_duration(path: Path | str, kind: str = "video") -> float | None:
    """Duration of the first ``kind`` stream by reading its packets (no decode).

    MediaRecorder's WebM files carry no duration in their header, so the
    container value cannot be trusted for them.
    """
    selector = "0:v:0" if kind == "video" else "0:a:0"
    proc = run(
        ["-i", str(path), "-map", selector, "-c", "copy", "-f", "null", "-"],
        what=f"measuring the {kind} duration",
        timeout=600,
    )
    matches = _TIME.findall(proc.stderr.decode(errors="replace"))
    if not matches:
        return None
    h, m, s = matches[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)
