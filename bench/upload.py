"""Recording upload benchmark: a long recording in parts while a websocket is served.

Under a real daphne and a real export worker:

1. A recording of ``--minutes`` (default 60; H.264, the copy path) is PUT in parts of
   ``--part-mib`` while a websocket client measures round trips on ``/ws/session``.
   Reported: daphne's RSS growth over the whole upload, and the worst round trip.
2. The export worker encodes the interview's settled minutes of audio, as it does while a
   real interview runs (``media_export.preencode``; here it looks every second, not every
   minute). End: the interview is completed, the segment's completion is POSTed and the
   export status polled until the MP4 is ready (goal: at most 10 s on the copy path). The
   comparison: the same export again with nothing encoded ahead.
3. A hostile 300 MB POST: daphne's RSS growth and the websocket's worst round trip
   while it is sent (goals: under 64 MB and 100 ms).

The comparison measured in the same run is the websocket round trip on an idle server.

Run: ``SECRET_KEY=x .venv/bin/python bench/upload.py [--minutes 60]``.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "media_export"))

MB = 1024 * 1024
GOAL_EXPORT_SECONDS = 10.0
GOAL_RSS_MB = 64.0
GOAL_STALL_MS = 100.0


class RoundTrips:
    """A websocket client sending a bad frame and timing the error answer, all the time."""

    def __init__(self, port: int):
        self.url = f"ws://127.0.0.1:{port}/ws/session"
        self.samples: list[tuple[float, float]] = []  # (when, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self):
        import websockets

        async with websockets.connect(self.url, origin="http://127.0.0.1") as ws:
            while not self._stop.is_set():
                began = time.perf_counter()
                await ws.send("{not json")
                await ws.recv()
                self.samples.append((time.monotonic(), time.perf_counter() - began))
                await asyncio.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def worst_ms(self, since: float, until: float) -> float:
        window = [s for t, s in self.samples if since <= t <= until]
        return max(window, default=0.0) * 1000

    def median_ms(self, since: float, until: float) -> float:
        window = [s for t, s in self.samples if since <= t <= until]
        return statistics.median(window) * 1000 if window else 0.0

    def p95_ms(self, since: float, until: float) -> float:
        window = sorted(s for t, s in self.samples if since <= t <= until)
        return window[int(0.95 * (len(window) - 1))] * 1000 if window else 0.0


class PeakRss:
    def __init__(self, pid: int):
        from admin_explorer.procstat import rss_bytes

        self.pid, self.read = pid, rss_bytes
        self.baseline = rss_bytes(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request(method, path, body=body, headers={"Host": "localhost", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def hostile_post(port: int, total: int = 300 * MB) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (
        "POST /api/interviews/upload/video HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {total}\r\n\r\n"
    )
    block = b"x" * MB
    try:
        sock.sendall(head.encode())
        for _ in range(total // MB):
            sock.sendall(block)
    except OSError:
        pass  # refused and closed: the server stopped reading
    sock.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--part-mib", type=float, default=1.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        tmp_path = Path(tmp)
        os.environ.setdefault("SECRET_KEY", "bench-only")
        os.environ["MIX_WAIT_SECONDS"] = "5"
        os.environ["SESSION_RESUME_SECONDS"] = "3600"  # the sweep leaves the bench's interview be
        # The hour is uploaded in seconds: the worker looks every second instead of every minute.
        os.environ["AUDIO_PREENCODE_SECONDS"] = "1"
        os.environ.pop("DATABASE_URL", None)
        from tests.security.live import live_server

        # This process only makes test media; the server and worker have their own settings.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")
        os.environ["VAR_DIR"] = str(tmp_path / "bench-var")
        import django

        django.setup()

        with live_server(tmp_path) as server:
            run(server, tmp_path, args)


def prepare(server, tmp_path: Path, minutes: float):
    """The interview, its spool (the candidate's voice) and the candidate's recording."""
    from helpers import speechlike, write_wav

    seconds = minutes * 60
    voice = speechlike(seconds - 1.0, seed=11)
    voice.tofile(tmp_path / "voice.pcm")
    video = long_recording(tmp_path, write_wav(tmp_path / "voice.wav", voice), seconds)
    code = (
        "import numpy as np; from interviews.services import create_interview, start_interview;"
        "from interviews.invitations import make_token; from media_export.spool import SpoolWriter;"
        "i, _ = create_interview(job_title='E', candidate_name='C', candidate_email='c@x.io');"
        "start_interview(interview_id=i.pk);"
        f"v = np.fromfile({str(tmp_path / 'voice.pcm')!r}, dtype='<i2');"
        "w = SpoolWriter(i.pk, 'bench-session', 3600); w.recording_started(0.0);"
        "[w.add_mic(n // 2400, n / 24000, v[n:n + 2400].tobytes()) for n in range(0, len(v), 2400)];"
        "w.end(); w.close();"
        "print(i.pk, make_token(i))"
    )
    pk, token = server.shell(code).split()
    return int(pk), token, video


def long_recording(tmp_path: Path, voice_wav: Path, seconds: float) -> Path:
    """An H.264 recording of ``seconds`` with the whole voice as its audio track.

    Encoding an hour of test pattern takes many minutes on a busy machine, so one minute
    is encoded and its video stream repeated by stream copy (the timestamps run on); only
    the voice is encoded at full length.
    """
    from helpers import make_video

    from media_export import ffmpeg

    clip_seconds = min(60.0, seconds)
    clip = make_video(
        tmp_path / "clip.mp4", voice_wav, codec="h264", seconds=clip_seconds, size="320x240"
    )
    loops = max(0, int(-(-seconds // clip_seconds)) - 1)
    output = tmp_path / "rec.mp4"
    args = ["-y", "-v", "error", "-stream_loop", str(loops), "-i", str(clip)]
    args += ["-i", str(voice_wav), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac"]
    args += ["-t", f"{seconds}", "-movflags", "+faststart", str(output)]
    ffmpeg.run(args, what="making the long test recording", timeout=1800)
    return output


def run(server, tmp_path: Path, args) -> None:
    interview_id, token, video = prepare(server, tmp_path, args.minutes)
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_export_worker",
            "--no-startup-delay",
            "--interval",
            "0.2",
        ],
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rows = measure(server, interview_id, token, video, args)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print()
    print(f"Recording upload, {args.minutes:.0f} min H.264 in {args.part_mib:g} MiB parts")
    print(f"{'figure':<46} {'goal':>12} {'measured':>12}")
    for figure, goal, value in rows:
        print(f"{figure:<46} {goal:>12} {value:>12}")


def wait_for_preencoding(server, interview_id: int, seconds: float) -> int:
    """Let the worker encode the settled minutes, as it does while a real interview runs."""
    from django.conf import settings

    from media_export import audio_track
    from media_export.spool import SAMPLE_RATE

    settled = (seconds - settings.AUDIO_PREENCODE_SETTLE_SECONDS) * SAMPLE_RATE
    expected = int((settled - audio_track.PAD) // audio_track.CHUNK)
    progress = Path(server.env["VAR_DIR"]) / "audio-chunks" / str(interview_id) / "progress.json"
    deadline = time.monotonic() + 1800
    done = 0
    while done < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        with contextlib.suppress(OSError, ValueError):
            done = json.loads(progress.read_text()).get("next", 0)
    return done


def end_interview(server, interview_id: int) -> None:
    server.shell(
        "from interviews.services import complete_interview;"
        f"complete_interview(interview_id={interview_id}, end_reason='candidate_ended')"
    )


def measure(server, interview_id, token, video: Path, args):
    port = server.port
    data = video.read_bytes()
    part = int(args.part_mib * MB)
    base = f"/api/interviews/{interview_id}/recording"
    with RoundTrips(port) as rtt:
        time.sleep(2.0)
        idle_from = time.monotonic() - 2.0
        idle_until = time.monotonic()

        began = time.monotonic()
        with PeakRss(server.proc.pid) as rss:
            for n, offset in enumerate(range(0, len(data), part)):
                status, body = request(
                    port, "PUT", f"{base}/0/parts/{n}?token={token}", data[offset : offset + part],
                    {"Content-Type": "application/octet-stream"},
                )  # fmt: skip
                assert status in (200, 201), (status, body)
            parts = n + 1
        upload_until = time.monotonic()

        preencoded = wait_for_preencoding(server, interview_id, args.minutes * 60)
        end_interview(server, interview_id)
        ended = time.monotonic()
        status, body = request(
            port, "POST", f"{base}/0/complete?token={token}",
            json.dumps({"parts": parts, "session_id": "bench-session"}),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 202, body
        export_status = ""
        while export_status not in ("done", "failed"):
            time.sleep(0.1)
            _s, answer = request(
                port, "GET", f"/api/interviews/{interview_id}/export?token={token}"
            )
            export_status = json.loads(answer).get("status", "")
        export_seconds = time.monotonic() - ended
        cold_seconds = float(
            server.shell(
                "import time; from media_export.exporting import run_export;"
                f"t = time.monotonic(); run_export({interview_id}, wait_seconds=0);"
                "print(round(time.monotonic() - t, 2))"
            )
        )

        with PeakRss(server.proc.pid) as hostile_rss:
            hostile_from = time.monotonic()
            hostile_post(port)
            time.sleep(0.3)
            hostile_until = time.monotonic()

    idle_median = rtt.median_ms(idle_from, idle_until)
    return [
        ("recording size", "", f"{len(data) / MB:.0f} MB"),
        ("parts uploaded", "", f"{parts}"),
        ("upload time", "", f"{upload_until - began:.1f} s"),
        ("daphne RSS growth over the upload", f"< {GOAL_RSS_MB:.0f} MB", f"{rss.growth_mb:.1f} MB"),
        ("websocket round trip during upload, median", "", f"{rtt.median_ms(began, upload_until):.1f} ms"),
        ("websocket round trip during upload, p95", "", f"{rtt.p95_ms(began, upload_until):.1f} ms"),
        ("websocket round trip during upload, worst", "", f"{rtt.worst_ms(began, upload_until):.1f} ms"),
        ("minutes of audio encoded before the End", "", f"{preencoded}"),
        ("End -> MP4 ready (copy path)", f"<= {GOAL_EXPORT_SECONDS:.0f} s", f"{export_seconds:.1f} s ({export_status})"),
        ("export again, nothing encoded ahead (comparison)", "", f"{cold_seconds:.1f} s"),
        ("300 MB hostile POST: daphne RSS growth", f"< {GOAL_RSS_MB:.0f} MB", f"{hostile_rss.growth_mb:.1f} MB"),
        ("300 MB hostile POST: websocket worst round trip", f"< {GOAL_STALL_MS:.0f} ms", f"{rtt.worst_ms(hostile_from, hostile_until):.1f} ms"),
        ("idle websocket round trip, median (comparison)", "", f"{idle_median:.1f} ms"),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
