"""Muxing the mixed WAV with the uploaded video into the final MP4.

H.264 uploads are stream-copied (decided from the probed codec, never the file
name); anything else (VP8/VP9 from MediaRecorder) is transcoded with libx264.
The video input is shifted so its first frame is at 0 and the WAV, whose
sample 0 *is* that frame, starts at 0 too. FFmpeg's MP4 muxer records the AAC
encoder's priming samples in an edit list, so players (and ffprobe) see the
audio start at 0 as well. Output goes to a temporary name, then ``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import ffmpeg
from .audio_track import AAC_ARGS, PRIMING_SECONDS


@dataclass
class MuxResult:
    path: Path
    video_codec: str
    copied: bool


def mux(
    video: Path,
    audio: Path | None,
    output: Path,
    *,
    info: ffmpeg.MediaInfo,
    video_start: float,
    duration: float | None,
    audio_is_aac: bool = False,
) -> MuxResult:
    """Write ``output`` (MP4) from ``video`` and ``audio`` (a WAV on the video's timeline).

    ``video_start`` is the first frame's presentation time as read with
    ``-copyts``; ``audio=None`` keeps the upload's own audio track (re-encoded).
    ``audio_is_aac``: ``audio`` is that WAV already encoded by ``audio_track`` (ADTS, starting
    with the encoder's priming): it is copied, shifted back by the priming.
    """
    codec = info.video_codec
    if codec is None:
        raise ffmpeg.FFmpegError("the upload has no video stream")
    copy = codec == "h264"
    # FFmpeg subtracts the container start from every input timestamp; shift the
    # video back by what is left so its first frame lands exactly on 0.
    shift = video_start - info.start
    args = ["-y", "-v", "error"]
    args += ["-itsoffset", f"{-shift:.6f}", "-i", str(video)]
    if audio is not None:
        if audio_is_aac:
            args += ["-itsoffset", f"{-PRIMING_SECONDS:.9f}"]
        args += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    else:
        args += ["-map", "0:v:0", "-map", "0:a:0?"]
    if copy:
        args += ["-c:v", "copy"]
    else:
        args += [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        ]
    args += ["-c:a", "copy"] if audio_is_aac and audio is not None else AAC_ARGS
    if duration:
        args += ["-t", f"{duration:.3f}"]
    args += ["-movflags", "+faststart", "-f", "mp4"]
    _run_into(args, output, what="muxing the MP4")
    return MuxResult(path=output, video_codec=codec, copied=copy)


def still_frame_with_audio(audio: Path, output: Path, *, size: str = "640x360") -> MuxResult:
    """An MP4 of a black still frame under ``audio``: the recording when no video arrived."""
    args = ["-y", "-v", "error", "-f", "lavfi", "-i", f"color=c=black:s={size}:r=1"]
    args += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-shortest"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage"]
    args += ["-pix_fmt", "yuv420p", *AAC_ARGS, "-movflags", "+faststart", "-f", "mp4"]
    _run_into(args, output, what="muxing the audio over a still frame")
    return MuxResult(path=output, video_codec="h264", copied=False)


def _run_into(args: list[str], output: Path, *, what: str) -> None:
    """Run FFmpeg into a temp file beside ``output``, then rename: no half-written MP4."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".mp4.tmp", dir=output.parent)
    os.close(fd)
    try:
        ffmpeg.run([*args, tmp], what=what, timeout=3600)
        os.replace(tmp, output)
    finally:
        Path(tmp).unlink(missing_ok=True)
