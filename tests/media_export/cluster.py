"""Several real processes of the project on loopback: daphne nodes with their own disks, an
export worker, one database, Redis and an S3 endpoint; and a candidate that speaks the
/ws/session protocol to whichever node it is sent to."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
RATE = 24000
CHUNK = 2400  # 100 ms, as the page sends
SHIP_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(tmp: Path, database_url: str, redis_url: str, storage_env: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "REDIS_URL"}}
    env.update(
        SECRET_KEY="multi-node-test-secret",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        VAR_DIR=str(tmp / "var"),
        TRANSCRIPTION="off",
        LOCAL_VAD="energy",
        REALTIME_PROVIDER="local",
        SPOOL_SHIP_SECONDS=str(SHIP_SECONDS),
        MIX_WAIT_SECONDS="120",
        LOG_LEVEL="INFO",
        **storage_env,
    )
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


CREATE = """
from interviews.invitations import make_token
from interviews.services import create_interview
interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
print(interview.pk, make_token(interview))
"""


def create_interview(env: dict) -> tuple[int, str]:
    pk, token = manage(env, "shell", "-c", CREATE).split()[-2:]
    return int(pk), token


class Process:
    """A server process (daphne or the worker) with its own MEDIA_ROOT and log file."""

    def __init__(self, name: str, env: dict, tmp: Path, args: list[str], port: int | None = None):
        self.name, self.port = name, port
        self.env = {**env, "MEDIA_ROOT": str(tmp / name / "media")}
        self.log = tmp / f"{name}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log
        )

    @classmethod
    def daphne(cls, name: str, env: dict, tmp: Path) -> Process:
        port = free_port()
        args = [
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "interviewsite.asgi:application",
        ]
        node = cls(name, env, tmp, args, port)
        deadline = time.monotonic() + 60
        while True:
            if node.proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{node.output()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return node
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start listening:\n{node.output()}")
            time.sleep(0.1)

    @classmethod
    def worker(cls, name: str, env: dict, tmp: Path) -> Process:
        args = ["manage.py", "run_export_worker", "--no-startup-delay", "--interval", "0.2"]
        return cls(name, env, tmp, args)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def get_json(self, path: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return json.loads(body) if body else {}

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request(
            method,
            path,
            body=body,
            headers={"Host": "127.0.0.1", "Content-Length": str(len(body)), **(headers or {})},
        )
        status = conn.getresponse().status
        conn.close()
        return status

    def put_part(self, interview_id: int, token: str, n: int, data: bytes) -> int:
        """Part ``n`` of the recording's segment 0, as the page's recorder sends it."""
        path = f"/api/interviews/{interview_id}/recording/0/parts/{n}?token={token}"
        return self.request("PUT", path, data, {"Content-Type": "application/octet-stream"})

    def complete(self, interview_id: int, token: str, parts: int, session_id: str) -> int:
        path = f"/api/interviews/{interview_id}/recording/0/complete?token={token}"
        body = json.dumps({"parts": parts, "session_id": session_id}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})


@dataclass
class AiChunk:
    node: str
    seq: int
    pcm: bytes
    played_at: float
    received: float  # monotonic time


@dataclass
class Candidate:
    """The page's side of /ws/session: mic chunks numbered from 0 on one clock, every AI chunk
    acknowledged as played back to back, a resend from ``resume_from_seq`` after a reconnect."""

    mic: np.ndarray
    session_id: str = "multi-node"
    next_seq: int = 0
    play_at: float = 0.0
    ai: list[AiChunk] = field(default_factory=list)
    readies: list[dict] = field(default_factory=list)
    ended: bool = False

    def chunk(self, seq: int) -> np.ndarray:
        return self.mic[seq * CHUNK : (seq + 1) * CHUNK]

    @property
    def clock(self) -> float:
        return self.next_seq * CHUNK / RATE

    async def attach(self, node: Process, interview_id: int, token: str):
        url = f"ws://127.0.0.1:{node.port}/ws/session"
        self.ws = await connect(url, origin=f"http://127.0.0.1:{node.port}", max_size=2**22)
        self.node = node.name
        await self.ws.send(
            json.dumps(
                {
                    "event": "start",
                    "session_id": self.session_id,
                    "interview_id": interview_id,
                    "token": token,
                }
            )
        )
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("event") == "session_ready":
                break
            assert message.get("event") != "error", message
        self.readies.append(message)
        self.next_seq = message["resume_from_seq"]  # the outbox resends from here
        if len(self.readies) == 1:
            await self.ws.send(json.dumps({"event": "recording_started", "timestamp": 0.0}))
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return message

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("event") == "tts_chunk":
                    pcm = base64.b64decode(message["audio_b64"])
                    start = max(self.play_at, self.clock)
                    self.play_at = start + len(pcm) / 2 / RATE
                    self.ai.append(AiChunk(self.node, message["seq"], pcm, start, time.monotonic()))
                    await self.ws.send(
                        json.dumps(
                            {"event": "ai_chunk_played", "seq": message["seq"], "timestamp": start}
                        )
                    )
                elif message.get("event") == "session_ended":
                    self.ended = True

    async def speak(self, seconds: float, *, until_quiet: bool = False) -> None:
        """Send mic chunks in real time; with ``until_quiet``, go on until the AI's audio
        has stopped arriving and has played out on the clock."""
        end = self.clock + seconds
        while self.clock < end or (
            until_quiet and (self.clock < self.play_at + 0.5 or self._ai_recent())
        ):
            if (self.next_seq + 1) * CHUNK > len(self.mic):
                raise AssertionError("the candidate ran out of audio: the AI never went quiet")
            await self.send_chunk()
            await asyncio.sleep(CHUNK / RATE)

    def _ai_recent(self) -> bool:
        return bool(self.ai) and time.monotonic() - self.ai[-1].received < 1.5

    async def send_chunk(self) -> None:
        seq = self.next_seq
        await self.ws.send(
            json.dumps(
                {
                    "event": "mic_chunk",
                    "seq": seq,
                    "timestamp": seq * CHUNK / RATE,
                    "audio_b64": base64.b64encode(self.chunk(seq).tobytes()).decode(),
                }
            )
        )
        self.next_seq += 1

    async def drop(self) -> None:
        await self.ws.close()
        self._reader.cancel()

    async def end(self) -> None:
        await self.ws.send(json.dumps({"event": "end"}))
        deadline = time.monotonic() + 30
        while not self.ended:
            assert time.monotonic() < deadline, "no session_ended"
            await asyncio.sleep(0.05)
        await self.ws.close()
