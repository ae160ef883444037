"""Mixing benchmark: a 60-minute interview into the three WAVs.

Spool: 36,000 mic chunks (100 ms, capture jitter of a few ms so neighbours
overlap or leave gaps) and 18,000 AI chunks in 200 replies (a few ms of
playback jitter, 2 % without telemetry, every tenth reply interrupted).
Measured in a fresh child process: read the spool, place every chunk, render
and write ``mic``/``ai``/``mixed`` WAVs; wall time and peak RSS. It mixes twice,
as a new interview (fresh files) and as a remix replacing those files; the goal
is judged on the slower of the two. The same run
measures the naive way (one pydub ``AudioSegment.overlay`` per chunk, then
``export``) on the first 5 minutes and scales it to the hour.

Run: ``SECRET_KEY=x .venv/bin/python bench/mixing.py [--minutes 60]``.
"""

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 1.0
GOAL_SPEEDUP = 50.0
NAIVE_MINUTES = 5
SR = 24000
CHUNK = 2400


def setup_django(media_root: str) -> None:
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")
    import django

    django.setup()


def write_spool(minutes: float, seed: int = 7) -> Path:
    import numpy as np

    from media_export.spool import SpoolWriter

    rng = np.random.default_rng(seed)
    mic_chunks = int(minutes * 60 * 10)
    ai_chunks = mic_chunks // 2
    writer = SpoolWriter(1, "bench", flush_seconds=3600)
    writer.recording_started(2.0)
    voice = (rng.standard_normal(CHUNK * 50) * 3000).astype("<i2")
    for seq in range(mic_chunks):
        t = 2.0 + seq * 0.1 + rng.uniform(-0.004, 0.004)
        start = (seq % 50) * CHUNK
        writer.add_mic(seq, t, voice[start : start + CHUNK].tobytes())
    replies = 200
    per_reply = ai_chunks // replies
    gap = (minutes * 60) / replies
    seq = 0
    tts = (rng.standard_normal(CHUNK * 30) * 4000).astype("<i2")
    for reply in range(replies):
        base = 2.0 + reply * gap + 1.0
        for k in range(per_reply):
            start = (k % 30) * CHUNK
            pcm = tts[start : start + CHUNK].tobytes()
            writer.add_ai(seq, base + k * 0.1 - 0.5, pcm, f"item{reply}", f"resp{reply}")
            if rng.random() > 0.02:
                writer.ai_played(seq, base + k * 0.1 + rng.uniform(-0.003, 0.003))
            if reply % 10 == 9 and k == per_reply // 2:
                writer.ai_cut(seq, 40.0)
            seq += 1
    writer.end()
    writer.close()
    return writer.directory


def fast_mix(directory: str, out_dir: str, queue) -> None:
    """Mix twice in one fresh process: a first mix, then a remix replacing its files."""
    from media_export.mixing import iter_blocks, mix_to_files
    from media_export.spool import read_session
    from media_export.timeline import build_timeline

    runs = []
    for _ in range(2):
        start = time.perf_counter()
        spool = read_session(Path(directory))
        read_done = time.perf_counter()
        timeline = build_timeline(spool)
        mixed = mix_to_files(spool, timeline, Path(out_dir), "bench")
        runs.append((time.perf_counter() - start, read_done - start))
    start = time.perf_counter()  # the same again, rendering without writing
    spool = read_session(Path(directory))
    timeline = build_timeline(spool)
    for _ in iter_blocks(spool, timeline, timeline.length):
        pass
    no_disk = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "first": runs[0][0],
            "no_disk": no_disk,
            "total": runs[1][0],
            "read": runs[1][1],
            "mix": runs[1][0] - runs[1][1],
            "peak_mb": peak_mb,
            "seconds": mixed.samples / SR,
            "bytes": sum(p.stat().st_size for p in mixed.paths.values()),
            "mic": len(timeline.mic),
            "ai": len(timeline.ai),
            "missing": timeline.missing_telemetry,
        }
    )


def naive_mix(directory: str, out_dir: str, minutes: float, queue) -> None:
    """One pydub overlay per chunk (ms positions, the whole segment copied each time)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment

    from media_export.spool import read_session

    start = time.perf_counter()
    spool = read_session(Path(directory))
    limit = minutes * 60
    zero = spool.recording_started
    mic_pcm = (Path(directory) / "mic.pcm").read_bytes()
    ai_pcm = (Path(directory) / "ai.pcm").read_bytes()

    def segment(pcm: bytes, chunk) -> AudioSegment:
        raw = pcm[chunk.offset : chunk.offset + chunk.length]
        return AudioSegment(data=raw, sample_width=2, frame_rate=SR, channels=1)

    length_ms = int(limit * 1000) + 1000
    mic = AudioSegment.silent(duration=length_ms, frame_rate=SR)
    ai = AudioSegment.silent(duration=length_ms, frame_rate=SR)
    chunks = 0
    for chunk in spool.mic:
        t = chunk.timestamp - zero
        if 0 <= t < limit:
            mic = mic.overlay(segment(mic_pcm, chunk), position=int(t * 1000))
            chunks += 1
    prev_end = None
    for chunk in spool.ai:
        t = (chunk.played_at if chunk.played_at is not None else chunk.timestamp) - zero
        if chunk.played_at is None and prev_end is not None:
            t = max(t, prev_end)
        prev_end = t + chunk.samples / SR
        if 0 <= t < limit:
            ai = ai.overlay(segment(ai_pcm, chunk), position=int(t * 1000))
            chunks += 1
    mixed = mic.overlay(ai)
    for name, seg in (("mic", mic), ("ai", ai), ("mixed", mixed)):
        seg.export(str(Path(out_dir) / f"naive_{name}.wav"), format="wav").close()
    queue.put({"total": time.perf_counter() - start, "chunks": chunks})


def in_child(target, *args):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--naive-minutes", type=float, default=NAIVE_MINUTES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mixing-") as media:
        setup_django(media)
        t0 = time.perf_counter()
        directory = write_spool(args.minutes)
        spool_s = time.perf_counter() - t0
        out_dir = Path(media) / "out"
        out_dir.mkdir()
        fast = in_child(fast_mix, str(directory), str(out_dir))
        naive = in_child(naive_mix, str(directory), str(out_dir), args.naive_minutes)
    scale = args.minutes / args.naive_minutes
    naive_hour = naive["total"] * scale
    worst = max(fast["first"], fast["total"])
    speedup = naive_hour / worst
    ok_time = worst <= GOAL_SECONDS * args.minutes / 60
    ok_speed = speedup >= GOAL_SPEEDUP
    print(
        f"Spool: {fast['mic']} mic + {fast['ai']} AI chunks placed "
        f"({fast['missing']} AI without telemetry), {fast['seconds'] / 60:.1f} min, "
        f"written in {spool_s:.1f} s"
    )
    print()
    print("| figure | measured | goal | comparison (same run) |")
    print("|---|---|---|---|")
    print(
        f"| mix + write 3 WAVs, {args.minutes:.0f} min (new / remix) | "
        f"{fast['first']:.2f} s / {fast['total']:.2f} s | "
        f"<= {GOAL_SECONDS * args.minutes / 60:.2f} s | naive pydub overlay: "
        f"{naive['total']:.1f} s for {args.naive_minutes:.0f} min ({naive['chunks']} chunks) "
        f"-> {naive_hour:.0f} s scaled |"
    )
    print(
        f"| speed-up over naive | {speedup:.0f}x | >= {GOAL_SPEEDUP:.0f}x | "
        f"{naive_hour:.0f} s / {worst:.2f} s |"
    )
    print(
        f"| stages (remix) | read spool index {fast['read']:.2f} s, place + limit + write "
        f"{fast['mix']:.2f} s | – | {fast['bytes'] / 1024**2:.0f} MiB of WAV |"
    )
    print(
        f"| same work without writing the WAVs | {fast['no_disk']:.2f} s | – | "
        f"the rest is the kernel taking {fast['bytes'] / 1024**2:.0f} MiB of writes |"
    )
    print(f"| peak RSS of the mixing process | {fast['peak_mb']:.0f} MiB | – | – |")
    print()
    print("PASS" if ok_time and ok_speed else "MISSED GOAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
