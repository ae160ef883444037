"""Speech-to-text for the offline interviewer: accuracy, speed, memory and capacity.

For Whisper base and tiny (each measured in a fresh child process, so its peak RSS is
its own):

1. WER and real-time factor (model time ÷ audio time) on eSpeak NG answers of about
   2 s, 10 s and 45 s, transcribed one at a time through the ``Transcriber`` service.
   Also the process CPU time per call: unlike the wall time it hardly depends on what
   else the machine runs (the workers run at ``nice`` +10 and yield to everything else).
2. Transcript latency after a turn ends: a turn streamed in real time, 100 ms chunks,
   through the offline interviewer (Silero VAD, the production ``LocalTiming``), from
   its ``speech_stopped`` (when the next question starts) to the
   ``…input_audio_transcription.completed`` event. The speech itself ended one hangover
   (0.9 s) before ``speech_stopped``.
3. Peak RSS of the process: after loading the model, and at the end.
4. Capacity: how many concurrent interviews one machine transcribes before the queue
   grows. An interview is taken as a 10 s answer every 20 s (answer, hangover, the next
   question). Throughput is measured with the pool saturated; then N interviews are
   simulated at that capacity and at 1.5 times it, reporting the longest queue and the
   transcript latency.

Run: ``SECRET_KEY=x .venv/bin/python bench/transcription.py [--models base,tiny] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")

SHORT = [
    "Yes, I have.",
    "About three years.",
    "I led a small team.",
    "Mostly Python and SQL.",
    "I would ask the user first.",
    "No, not in production.",
]
MEDIUM = [
    "I built a recorder for live interviews. Every audio chunk carries a timestamp from "
    "the browser's own clock, so the server can place it exactly, even when it arrives late.",
    "When a release went wrong, I rolled it back first and then read the logs with the "
    "team. We found a missing index and added a test so it could not happen again.",
    "I prefer small pull requests that are reviewed on the same day. It keeps the code "
    "easy to read and nobody waits for long before they can move on to the next task.",
]
LONG = [
    " ".join(
        [
            "My last project was a scheduling service for a chain of hospitals.",
            "Nurses used it to swap shifts, and managers used it to see who was on call.",
            "The old system was a spreadsheet that one person updated every evening.",
            "We started by writing down the rules that person kept in their head.",
            "Then we built the first version in six weeks with a very small team.",
            "The hardest part was not the code but agreeing on what a fair swap means.",
            "We tested every rule with real schedules from the previous year.",
            "After the launch, the time spent on planning dropped by more than half.",
            "I learned to ask more questions before writing the first line of code.",
        ]
    ),
]
SETS = {"2 s": SHORT, "10 s": MEDIUM, "45 s": LONG}
MODELS = {"base": "whisper-base", "tiny": "whisper-tiny"}
CYCLE_S = 20.0  # one interview: a 10 s answer every 20 s


def setup() -> None:
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speech(text: str) -> bytes:
    from realtime.providers.tts import EspeakSynthesizer

    return EspeakSynthesizer(voice="en-us").synthesize(text).pcm


def make_transcriber(choice: str, workers: int = 1, threads: int = 2, queue: int = 64):
    from realtime.transcription import Transcriber, TranscriberConfig

    config = TranscriberConfig(
        choice=choice,
        cache_dir=ROOT / "var" / "models",
        workers=workers,
        threads=threads,
        queue_limit=queue,
    )
    transcriber = Transcriber(config)
    started = time.monotonic()
    if not transcriber.wait_ready():
        raise SystemExit(transcriber.unavailable_reason)
    return transcriber, time.monotonic() - started


def accuracy(transcriber, quick: bool) -> dict:
    from realtime.transcription.quality import word_error_rate

    transcriber.transcribe(speech(SHORT[0]))  # warm-up
    out = {}
    for label, texts in SETS.items():
        texts = texts[:2] if quick else texts
        hyps, busy, audio, cpu = [], 0.0, 0.0, 0.0
        for text in texts:
            pcm = speech(text)
            cpu_before = time.process_time()
            result = transcriber.transcribe(pcm)
            cpu += time.process_time() - cpu_before
            hyps.append(result.text)
            busy += result.busy_seconds
            audio += result.audio_seconds
        out[label] = {
            "wer": word_error_rate(texts, hyps),
            "rtf": busy / audio,
            "seconds_per_call": busy / len(texts),
            "cpu_per_call": cpu / len(texts),
            "audio_seconds": audio / len(texts),
        }
    return out


async def _turn_latency(transcriber, text: str) -> float:
    """Seconds from speech_stopped to the completed transcript, audio fed in real time."""
    from realtime.providers.base import SessionSeed
    from realtime.providers.local import LocalInterviewer

    provider = LocalInterviewer(turn_detection="silero", transcriber=transcriber)
    await provider.start(SessionSeed(questions=["Tell me about your work."]))
    pcm = bytes(24000 * 2) + speech(text) + bytes(24000 * 3)
    stopped_at: list[float] = []
    done = asyncio.Event()

    async def listen():
        async for event in provider.events():
            if event["type"] == "input_audio_buffer.speech_stopped" and not stopped_at:
                stopped_at.append(time.monotonic())
            elif event["type"].startswith("conversation.item.input_audio_transcription.") and (
                not event["type"].endswith(".delta")
            ):
                stopped_at.append(time.monotonic())
                done.set()
                return

    listener = asyncio.create_task(listen())
    begin = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), 4800)):
        await asyncio.sleep(max(0.0, begin + index * 0.1 - time.monotonic()))
        await provider.append_audio(pcm[offset : offset + 4800])
    await asyncio.wait_for(done.wait(), 120)
    await provider.close()
    listener.cancel()
    return stopped_at[1] - stopped_at[0]


def latency(transcriber, quick: bool) -> dict:
    reps = {"2 s": 1 if quick else 3, "10 s": 1 if quick else 3, "45 s": 1}
    out = {}
    for label, texts in SETS.items():
        values = [
            asyncio.run(_turn_latency(transcriber, texts[i % len(texts)]))
            for i in range(reps[label])
        ]
        out[label] = {"p50": statistics.median(values), "max": max(values), "n": len(values)}
    return out


def throughput(transcriber, turns: int) -> tuple[float, float]:
    """10 s answers transcribed per second with the pool saturated, and CPU seconds per answer."""
    pcm = [speech(MEDIUM[i % len(MEDIUM)]) for i in range(turns)]
    started, cpu_before = time.monotonic(), time.process_time()
    futures = [transcriber.submit(p) for p in pcm]
    for future in futures:
        future.result()
    return turns / (time.monotonic() - started), (time.process_time() - cpu_before) / turns


def simulate(transcriber, interviews: int, cycles: float) -> dict:
    """``interviews`` sessions, each submitting a 10 s answer every CYCLE_S (random phase)."""
    pcm = [speech(text) for text in MEDIUM]
    rng = random.Random(interviews)
    events = sorted(
        (rng.uniform(0, CYCLE_S) + k * CYCLE_S + rng.uniform(-2, 2), i)
        for i in range(interviews)
        for k in range(int(cycles))
    )
    started = time.monotonic()
    pending, latencies, longest = [], [], 0
    for at, i in events:
        time.sleep(max(0.0, started + at - time.monotonic()))
        submitted = time.monotonic()
        future = transcriber.submit(pcm[i % len(pcm)])
        future.add_done_callback(lambda _f, t=submitted: latencies.append(time.monotonic() - t))
        pending.append(future)
        longest = max(longest, transcriber.pending)
    for future in pending:
        future.result()
    ordered = sorted(latencies)
    return {
        "interviews": interviews,
        "longest_queue": longest,
        "latency_p50": ordered[len(ordered) // 2],
        "latency_p95": ordered[int(len(ordered) * 0.95) - 1],
    }


def child(model: str, quick: bool) -> dict:
    setup()
    transcriber, load_s = make_transcriber(MODELS[model])
    result = {"model": model, "load_s": load_s, "rss_after_load_mb": peak_rss_mb()}
    result["accuracy"] = accuracy(transcriber, quick)
    result["latency"] = latency(transcriber, quick)
    rate, cpu_per_answer = throughput(transcriber, 4 if quick else 8)
    result["turns_per_s"] = rate
    result["capacity"] = int(rate * CYCLE_S)
    result["cpu_per_answer"] = cpu_per_answer
    # On a machine with nothing else to do, every core works for the pool.
    result["capacity_idle"] = int((os.cpu_count() or 1) * CYCLE_S / cpu_per_answer)
    if not quick:
        capacity = max(1, result["capacity"])
        result["simulations"] = [
            simulate(transcriber, n, cycles=3) for n in (capacity, int(capacity * 1.5) + 1)
        ]
    transcriber.close()
    result["peak_rss_mb"] = peak_rss_mb()
    if model == "base" and not quick:  # the other pool shape, for the default's sake
        other, _ = make_transcriber(MODELS[model], workers=2, threads=1)
        result["turns_per_s_2x1"] = throughput(other, 8)[0]
        other.close()
    return result


def report(results: list[dict]) -> str:
    lines = [
        "| Model | Length | WER | RTF (wall) | wall / CPU seconds per call |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        for label, a in r["accuracy"].items():
            lines.append(
                f"| {r['model']} | {label} | {a['wer']:.1%} | {a['rtf']:.3f} "
                f"| {a['seconds_per_call']:.2f} / {a['cpu_per_call']:.2f} |"
            )
    lines += [
        "",
        "| Model | Transcript after speech_stopped, p50 / max (s): 2 s turn | 10 s turn (goal ≤ 1.5) | 45 s turn |",
        "|---|---|---|---|",
    ]
    for r in results:
        cells = [f"{v['p50']:.2f} / {v['max']:.2f}" for v in r["latency"].values()]
        lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| Model | Load (s) | Peak RSS after load / at end (MB) | 10 s answers per s | CPU s per answer "
        "| Interviews (10 s answer / 20 s): measured / idle machine |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['load_s']:.1f} | {r['rss_after_load_mb']:.0f} / "
            f"{r['peak_rss_mb']:.0f} | {r['turns_per_s']:.2f} | {r['cpu_per_answer']:.2f} "
            f"| {r['capacity']} / {r['capacity_idle']} |"
        )
    for r in results:
        if "turns_per_s_2x1" in r:
            lines.append(
                f"\n{r['model']}: 1 worker × 2 threads {r['turns_per_s']:.2f} answers/s, "
                f"2 workers × 1 thread {r['turns_per_s_2x1']:.2f} answers/s"
            )
        for sim in r.get("simulations", []):
            lines.append(
                f"{r['model']}: {sim['interviews']} interviews for 3 cycles: longest queue "
                f"{sim['longest_queue']}, transcript latency p50 {sim['latency_p50']:.1f} s, "
                f"p95 {sim['latency_p95']:.1f} s"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="base,tiny")
    parser.add_argument("--quick", action="store_true", help="fewer samples, no simulation")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("@@" + json.dumps(child(args.child, args.quick)))
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    results = []
    for model in args.models.split(","):
        command = [sys.executable, __file__, "--child", model] + (["--quick"] if args.quick else [])
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results.append(json.loads(next(x for x in out.splitlines() if x.startswith("@@"))[2:]))
    print(report(results))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
