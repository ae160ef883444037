"""Export benchmark: upload complete -> MP4 ready, for a 10-minute interview.

Two uploads of the same interview: H.264/AAC MP4 (the copy path) and VP8/Opus
WebM (the transcode path). Each is registered like the upload endpoint does,
then the export runs as the worker runs it: align by cross-correlation, write
the three WAVs on the video's timeline, mux. Per-stage times come from the
export's own progress messages. The comparison in the same run is the floor:
one bare FFmpeg mux of the same video and WAV with no alignment or mixing.

Run: ``SECRET_KEY=x .venv/bin/python bench/export.py [--minutes 10]``.
"""

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "media_export"))

GOAL_COPY_SECONDS = 5.0


def setup(tmp: str) -> None:
    os.environ["VAR_DIR"] = tmp
    os.environ["MEDIA_ROOT"] = str(Path(tmp) / "media")
    os.environ["DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_inputs(tmp: Path, minutes: float):
    import numpy as np
    from helpers import make_video, speechlike, tone, write_wav

    seconds = minutes * 60
    voice = speechlike(seconds - 1.0, seed=11)
    wav = write_wav(tmp / "voice.wav", voice)
    t0 = time.perf_counter()
    h264 = make_video(
        tmp / "upload.mp4", wav, codec="h264", seconds=seconds, audio_delay=0.02, size="320x240"
    )
    t1 = time.perf_counter()
    vp8 = make_video(
        tmp / "upload.webm", wav, codec="vp8", seconds=seconds, audio_delay=0.02, size="320x240"
    )
    t2 = time.perf_counter()
    reply = tone(500, 0.1, amplitude=4000)
    return voice, reply, h264, vp8, (t1 - t0, t2 - t1), np


def build_interview(voice, reply, zero: float):
    from helpers import SpoolBuilder

    from interviews.services import create_interview

    interview, _ = create_interview(
        job_title="Bench", candidate_name=f"B{time.time_ns()}", candidate_email="b@x.io"
    )
    spool = SpoolBuilder(interview.pk, "bench").rec(zero + 0.025)
    spool.mic_stream(zero + 0.02, voice)
    seq = 0
    for turn in range(int(len(voice) / 24000 / 20)):  # a 3 s reply every 20 s
        for k in range(30):
            t = zero + turn * 20 + 10 + k * 0.1
            spool.ai(seq, t - 0.3, reply, resp=f"r{turn}", item=f"i{turn}", played=t)
            seq += 1
    spool.end()
    return interview


def export_once(interview, video: Path) -> dict:
    import shutil

    from media_export.services import register_upload, run_export

    staged = video.with_suffix(".staged")
    shutil.copy(video, staged)
    marks = []
    start = time.perf_counter()
    register_upload(interview, staged, video.suffix.lstrip("."), "bench")
    status = run_export(
        interview.pk, wait_seconds=0, progress=lambda m: marks.append((time.perf_counter(), m))
    )
    end = time.perf_counter()
    assert status == "done", status
    stages = {}
    points = [(start, "upload registered"), *marks, (end, "done")]
    for (t_a, label), (t_b, _) in itertools.pairwise(points):
        key = label.split(" (")[0]
        stages[key] = stages.get(key, 0.0) + (t_b - t_a)
    return {"total": end - start, "stages": stages}


def bare_mux(video: Path, wav: Path, out: Path) -> float:
    from media_export import ffmpeg
    from media_export.audio_track import AAC_ARGS

    start = time.perf_counter()
    ffmpeg.run(
        [
            "-y",
            "-v",
            "error",
            "-i",
            str(video),
            "-i",
            str(wav),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            *AAC_ARGS,
            "-movflags",
            "+faststart",
            str(out),
        ],
        what="bare mux",
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        setup(tmp)
        from django.conf import settings

        voice, reply, h264, vp8, made, _ = make_inputs(Path(tmp), args.minutes)
        copy_run = export_once(build_interview(voice, reply, 30.0), h264)
        transcode_run = export_once(build_interview(voice, reply, 30.0), vp8)
        floor = bare_mux(
            h264, next(Path(settings.UPLOADS_AUDIO_DIR).glob("*_mixed.wav")), Path(tmp) / "b.mp4"
        )
    print(
        f"Inputs: {args.minutes:.0f} min, 320x240 test pattern at 25 fps, speech-like voice; "
        f"generated in {made[0]:.0f} s (H.264) and {made[1]:.0f} s (VP8)"
    )
    print()
    print("| figure | measured | goal | comparison (same run) |")
    print("|---|---|---|---|")
    print(
        f"| upload → MP4 ready, H.264 upload (copy path) | {copy_run['total']:.2f} s | "
        f"<= {GOAL_COPY_SECONDS:.0f} s | bare FFmpeg copy-mux of the same files: {floor:.2f} s |"
    )
    print(
        f"| upload → MP4 ready, VP8 upload (transcode path) | {transcode_run['total']:.2f} s | – | "
        f"{transcode_run['total'] / copy_run['total']:.1f}x the copy path |"
    )
    for name, run in (("copy", copy_run), ("transcode", transcode_run)):
        stages = ", ".join(f"{k.lower()} {v:.2f} s" for k, v in run["stages"].items())
        print(f"| stages, {name} path | {stages} | – | – |")
    print()
    print("PASS" if copy_run["total"] <= GOAL_COPY_SECONDS else "MISSED GOAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
