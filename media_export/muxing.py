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


#: Black frames per second in the gaps between segments (a player holds each one).
GAP_FPS = 5
#: The encoder's and the MP4 track's time base: frame times stay exact to 1/90000 s
#: (by default the encoder would round every frame to 1/frame-rate).
VIDEO_TIME_BASE = "1:90000"


@dataclass
class Piece:
    """A segment's video shown from ``start`` for ``keep`` seconds of the MP4."""

    path: Path
    start: float
    keep: float
    cut: bool  # ``keep`` is shorter than the segment: trim its end
    # Where in the segment's own video the piece begins (s). A piece that goes on from
    # there (a later stretch of one recording) gets no black before it: the previous
    # frame stays on screen over the few ms between them.
    offset: float = 0.0


def stitch(
    pieces: list[Piece], audio: Path, output: Path, *, size: tuple[int, int], total: float
) -> MuxResult:
    """One H.264 MP4 from several segments placed on one clock, black in the gaps, ``audio`` at 0.

    Each segment is scaled and padded to ``size``, its first frame moved to exactly its
    start (``setpts`` in microseconds), the streams merged in time order (``interleave``)
    and written with variable frame timing, so no frame is duplicated, dropped or moved.
    """
    width, height = (size[0] // 2) * 2, (size[1] // 2) * 2
    fit = (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv420p"
    )
    args = ["-y", "-v", "error"]
    chains, labels = [], []
    cursor = 0.0
    for k, piece in enumerate(pieces):
        if (
            piece.start - cursor > 0.0005 and not piece.offset
        ):  # a gap: black frames from the previous end
            chains.append(_black(len(labels), cursor, piece.start - cursor, width, height))
            labels.append(f"g{len(labels)}")
        args += ["-i", str(piece.path)]
        bounds = [f"start={piece.offset:.6f}"] if piece.offset > 0 else []
        bounds += [f"end={piece.offset + piece.keep:.6f}"] if piece.cut else []
        trim = f"trim={':'.join(bounds)}," if bounds else ""
        chains.append(
            f"[{k}:v:0]setpts=PTS-STARTPTS,{trim}{fit},settb=AVTB,"
            f"setpts=PTS+{piece.start - piece.offset:.6f}/TB[s{len(labels)}]"
        )
        labels.append(f"s{len(labels)}")
        cursor = piece.start + piece.keep
    if ffmpeg.hides_last_vfr_frame():
        # FFmpeg 5 writes the last frame without a duration, and the MP4's edit list then
        # hides it: a black frame at the very end takes that place, so no real frame is lost.
        chains.append(_black(len(labels), total, 1 / GAP_FPS, width, height))
        labels.append(f"g{len(labels)}")
    merged = "".join(f"[{label}]" for label in labels)
    chains.append(f"{merged}interleave=nb_inputs={len(labels)}[v]")
    # The audio is cut to the video's end in the graph: ``-t`` would also cut the frame above.
    chains.append(f"[{len(pieces)}:a:0]atrim=end={total:.6f}[a]")
    args += ["-i", str(audio), "-filter_complex", ";".join(chains)]
    args += ["-map", "[v]", "-map", "[a]"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    args += ["-fps_mode", "vfr", "-enc_time_base:v", VIDEO_TIME_BASE]
    args += ["-video_track_timescale", VIDEO_TIME_BASE.split(":")[1]]
    args += AAC_ARGS
    args += ["-movflags", "+faststart", "-f", "mp4"]
    _run_into(args, output, what="joining the recording's segments into the MP4")
    return MuxResult(path=output, video_codec="h264", copied=False)


def _black(index: int, start: float, seconds: float, width: int, height: int) -> str:
    return (
        f"color=c=black:s={width}x{height}:r={GAP_FPS}:d={seconds:.6f},format=yuv420p,"
        f"setsar=1,settb=AVTB,setpts=PTS+{start:.6f}/TB[g{index}]"
    )


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
