"""How much latency and CPU the /ws/session proxy adds per live interview.

One daphne process serves /ws/session on a free loopback port with a scripted AI
provider (bursts of real-time AI audio: 2 s talking, 2 s pause). N simulated browsers
each send a 100 ms mic chunk every 100 ms and report ``ai_chunk_played`` for every AI
chunk, as the page does. Runs N = 1 (the baseline: what the machine itself adds),
N = 50 and N = 200.

Method: the server itself times each mic chunk from the moment the consumer receives
the frame to the moment it is validated, written to the spool, buffered and handed to
the provider (``realtime/metrics.py``, enabled only by the bench settings), and
separately measures event-loop lag (a 10 ms ticker: how long any frame could wait
before its handler starts). Both go into log-bucket histograms that the server writes
to a file; the bench diffs two snapshots over a steady 10 s window, with the process
CPU time read at the same two moments.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = tuple(int(x) for x in os.environ.get("BENCH_REALTIME_SIZES", "1,50,200").split(","))
WARMUP_S = 4.0
WINDOW_S = float(os.environ.get("BENCH_REALTIME_WINDOW", "10"))
GOAL_P99_MS = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict, count: int) -> list[tuple[int, str]]:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from interviews.invitations import make_token
    from interviews.services import create_interview

    call_command("migrate", verbosity=0)
    out = []
    for i in range(count):
        interview, _ = create_interview(
            job_title="Bench role",
            candidate_name=f"Bench {i}",
            candidate_email=f"bench{i}@example.com",
        )
        out.append((interview.pk, make_token(interview)))
    return out


def histogram_percentile(counts: dict[int, int], q: float) -> float | None:
    from realtime.metrics import Histogram

    total = sum(counts.values())
    if total == 0:
        return None
    rank = q / 100 * total
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return Histogram.bucket_upper(index) * 1000
    return None


def histogram_upper(index: int) -> float:
    from realtime.metrics import Histogram

    return Histogram.bucket_upper(index) * 1000


def diff(after: dict, before: dict, key: str) -> dict[int, int]:
    a = {int(k): v for k, v in after[key].items()}
    b = {int(k): v for k, v in before[key].items()}
    return {k: v - b.get(k, 0) for k, v in a.items() if v - b.get(k, 0) > 0}


class Browser:
    def __init__(self, url: str, origin: str, interview_id: int, token: str, session_id: str):
        self.url, self.origin = url, origin
        self.interview_id, self.token, self.session_id = interview_id, token, session_id
        rng = np.random.default_rng(interview_id)
        noise = rng.normal(0, 60, 2400).astype("<i2").tobytes()
        self.audio_b64 = base64.b64encode(noise).decode()
        self.sent = 0
        self.tts = 0
        self.late_sends = 0
        self.errors: list[str] = []
        self.stop = asyncio.Event()

    async def run(self, ready: asyncio.Event, barrier: list) -> None:
        import websockets

        async with websockets.connect(self.url, origin=self.origin, max_size=2**20) as ws:
            await ws.send(
                json.dumps(
                    {
                        "event": "start",
                        "session_id": self.session_id,
                        "interview_id": self.interview_id,
                        "token": self.token,
                    }
                )
            )
            first = json.loads(await ws.recv())
            if first.get("event") != "session_ready":
                raise RuntimeError(f"start refused: {first}")
            barrier.append(1)
            await ready.wait()
            reader = asyncio.create_task(self._read(ws))
            loop = asyncio.get_running_loop()
            start = loop.time()
            seq = 0
            while not self.stop.is_set():
                due = start + seq * 0.1
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.05:
                    self.late_sends += 1
                await ws.send(
                    json.dumps(
                        {
                            "event": "mic_chunk",
                            "seq": seq,
                            "audio_b64": self.audio_b64,
                            "timestamp": seq * 0.1,
                        }
                    )
                )
                seq += 1
                self.sent += 1
            await ws.send(json.dumps({"event": "end"}))
            try:
                await asyncio.wait_for(reader, 10)
            except TimeoutError:
                reader.cancel()

    async def _read(self, ws) -> None:
        import websockets

        play_at = 0.0
        try:
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("event")
                if kind == "tts_chunk":
                    self.tts += 1
                    play_at = max(play_at, self.sent * 0.1)
                    await ws.send(
                        json.dumps(
                            {
                                "event": "ai_chunk_played",
                                "seq": message["seq"],
                                "timestamp": play_at,
                            }
                        )
                    )
                    play_at += 0.1
                elif kind == "error":
                    self.errors.append(message.get("code"))
                elif kind == "session_ended":
                    return
        except websockets.ConnectionClosed:
            return


def read_metrics(path: Path) -> dict:
    for _ in range(50):
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
    raise RuntimeError("the server never wrote its metrics file")


async def fresh_metrics(path: Path) -> dict:
    """A snapshot written after this call (the server dumps every 0.5 s)."""
    now = time.time()
    while True:
        data = read_metrics(path)
        if data["wall"] >= now:
            return data
        await asyncio.sleep(0.1)


async def run_size(
    n: int, port: int, creds: list[tuple[int, str]], metrics_path: Path, tag: str
) -> dict:
    url = f"ws://127.0.0.1:{port}/ws/session"
    origin = f"http://127.0.0.1:{port}"
    browsers = [Browser(url, origin, iid, token, f"bench-{tag}-{iid}") for iid, token in creds]
    ready = asyncio.Event()
    barrier: list = []
    tasks = []
    for browser in browsers:
        tasks.append(asyncio.create_task(browser.run(ready, barrier)))
        await asyncio.sleep(0.005)  # do not open hundreds of sockets in one burst
    while len(barrier) < n:
        if any(t.done() and t.exception() for t in tasks):
            raise next(t.exception() for t in tasks if t.done() and t.exception())
        await asyncio.sleep(0.05)
    ready.set()
    await asyncio.sleep(WARMUP_S)
    before = await fresh_metrics(metrics_path)
    sent_before = sum(b.sent for b in browsers)
    tts_before = sum(b.tts for b in browsers)
    await asyncio.sleep(WINDOW_S)
    after = await fresh_metrics(metrics_path)
    sent = sum(b.sent for b in browsers) - sent_before
    tts = sum(b.tts for b in browsers) - tts_before
    for browser in browsers:
        browser.stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    mic = diff(after, before, "mic")
    lag = diff(after, before, "lag")
    gc_pauses = diff(after, before, "gc")
    elapsed = after["wall"] - before["wall"]
    cpu = after["cpu_seconds"] - before["cpu_seconds"]
    errors = [code for b in browsers for code in b.errors]
    return {
        "n": n,
        "chunks": sum(mic.values()),
        "mic_rate": sent / elapsed / n,
        "ai_rate": tts / elapsed / n,
        "p50": histogram_percentile(mic, 50),
        "p99": histogram_percentile(mic, 99),
        "lag_p99": histogram_percentile(lag, 99),
        "lag_p50": histogram_percentile(lag, 50),
        "gc_max": max((histogram_upper(i) for i in gc_pauses), default=0.0),
        "loadavg": after.get("loadavg", 0.0),
        "cpu_pct": cpu / elapsed * 100,
        "cpu_per_session": cpu / elapsed / n * 100,
        "late": sum(b.late_sends for b in browsers),
        "errors": errors,
    }


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    metrics_path = tmp / "metrics.json"
    env = {
        "DJANGO_SETTINGS_MODULE": "bench._realtime_settings",
        "REALTIME_METRICS_FILE": str(metrics_path),
        "VAR_DIR": str(tmp),
        "MEDIA_ROOT": str(tmp / "media"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret"),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "LATENCY_LOGS": "",
    }
    creds = prepare(env, sum(SIZES))
    port = free_port()
    daphne = Path(sys.executable).with_name("daphne")
    server = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "interviewsite.asgi:application"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.2)
        results = []
        offset = 0
        for n in SIZES:
            results.append(
                asyncio.run(run_size(n, port, creds[offset : offset + n], metrics_path, f"n{n}"))
            )
            offset += n
            time.sleep(1.0)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    print()
    print(
        "Realtime proxy: one daphne process, N browsers × 10 mic chunks/s + AI audio (2 s on / 2 s off)"
    )
    print(
        f"Window {WINDOW_S:.0f} s after {WARMUP_S:.0f} s warm-up; server-side timing (see module docstring)."
    )
    print()
    header = (
        f"| {'figure':<50} | {'goal':<9} | " + " | ".join(f"N={r['n']:<6}" for r in results) + " |"
    )
    print(header)
    print("|" + "-" * 52 + "|" + "-" * 11 + "|" + "|".join("-" * 10 for _ in results) + "|")

    def row(name, goal, key, fmt):
        cells = " | ".join(f"{fmt(r[key]):<8}" for r in results)
        print(f"| {name:<50} | {goal:<9} | {cells} |")

    ms = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    row("mic chunk added latency p50 (ms)", "", "p50", ms)
    row("mic chunk added latency p99 (ms)", f"< {GOAL_P99_MS:g}", "p99", ms)
    row("event-loop lag p50 (ms, queueing before handler)", "", "lag_p50", ms)
    row("event-loop lag p99 (ms, queueing before handler)", "", "lag_p99", ms)
    row("longest garbage-collector pause (ms)", "", "gc_max", ms)
    row("machine load average (1 min, 2 cores shared)", "", "loadavg", lambda v: f"{v:.2f}")
    row("CPU per session (% of one core)", "", "cpu_per_session", lambda v: f"{v:.2f}")
    row("CPU of the daphne process (% of one core)", "", "cpu_pct", lambda v: f"{v:.0f}")
    row("mic chunks/s per session (sent)", "10", "mic_rate", lambda v: f"{v:.2f}")
    row("AI chunks/s per session (received)", "~5", "ai_rate", lambda v: f"{v:.2f}")
    row("mic chunks timed by the server", "", "chunks", str)
    print()
    big = results[-1]
    verdict = "meets" if big["p99"] is not None and big["p99"] < GOAL_P99_MS else "MISSES"
    base = results[0]
    print(
        f"At N={big['n']}: p99 {ms(big['p99'])} ms {verdict} the {GOAL_P99_MS:g} ms goal; "
        f"N={base['n']} → N={big['n']} changes p99 by {(big['p99'] or 0) - (base['p99'] or 0):+.3f} ms "
        f"and event-loop lag p99 by {(big['lag_p99'] or 0) - (base['lag_p99'] or 0):+.3f} ms."
    )
    for r in results:
        if r["errors"]:
            print(
                f"N={r['n']}: errors from the server: {sorted(set(r['errors']))} ({len(r['errors'])})"
            )
        if r["late"]:
            print(
                f"N={r['n']}: the load generator fell behind {r['late']} times (client-side, not the server)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
