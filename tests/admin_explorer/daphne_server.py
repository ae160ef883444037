"""Run the project under a real daphne process on a scratch SQLite database."""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(var_dir: Path, database_url: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update(SECRET_KEY=env.get("SECRET_KEY") or "t", VAR_DIR=str(var_dir), LOG_LEVEL="WARNING")
    env["TRANSCRIPTION"] = "off"  # serves no interview: no speech-to-text model in its memory
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def scratch_database(database_url: str):
    """Yield a URL for a fresh PostgreSQL database next to ``database_url`` (dropped after);
    for anything else yield "" (the server then uses SQLite under its VAR_DIR)."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        yield ""
        return
    import psycopg

    name = f"explorer_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


STAFF_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
user, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
user.set_password("unused-password-1"); user.is_staff = True; user.save()
s = SessionStore()
s[SESSION_KEY] = str(user.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = user.get_session_auth_hash()
s.create()
print(s.session_key)
"""


def staff_session(env: dict) -> str:
    return manage(env, "shell", "-c", STAFF_SESSION).strip().splitlines()[-1]


class Daphne:
    def __init__(self, env: dict):
        self.env = env
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Daphne":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "interviewsite.asgi:application"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start listening")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def get(self, path: str, session: str, on_chunk=None) -> tuple[int, dict, int, float]:
        """GET ``path``; returns status, headers, body size and seconds to the first body byte.

        The body is read in 64 KiB pieces and handed to ``on_chunk``, never kept whole.
        """
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        started = time.monotonic()
        conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "localhost"})
        response = conn.getresponse()
        size, first = 0, None
        while (
            chunk := response.read1(65536) if hasattr(response, "read1") else response.read(65536)
        ):
            if first is None:
                first = time.monotonic() - started
            size += len(chunk)
            if on_chunk:
                on_chunk(chunk)
        conn.close()
        return response.status, dict(response.getheaders()), size, first or 0.0


@dataclass
class Download:
    status: int
    headers: dict
    size: int
    first_byte: float
    seconds: float
    lines: int
    rss_growth: int


def download_watching_memory(
    server: Daphne, session: str, path: str, interval: float = 0.02
) -> Download:
    """GET ``path`` from a warmed-up server, counting lines and sampling the server's RSS.

    Growth is the peak over the download (sampled, and the kernel's high-water mark where
    it can be reset) minus the resident size just before it.
    """
    from admin_explorer.procstat import reset_peak, rss_bytes

    pid = server.proc.pid
    # Warm up: imports, connections and the first query plan are not growth.
    assert server.get("/api/admin/data", session)[0] == 200
    assert server.get("/api/admin/data/export?format=csv&search=Kofi", session)[0] == 200
    time.sleep(0.3)
    baseline = rss_bytes(pid)
    peak_reset = reset_peak(pid)
    samples = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss_bytes(pid))
            time.sleep(interval)

    sampler = threading.Thread(target=sample)
    sampler.start()
    lines = 0

    def count(chunk: bytes) -> None:
        nonlocal lines
        lines += chunk.count(b"\n")

    started = time.monotonic()
    try:
        status, headers, size, first_byte = server.get(path, session, count)
        seconds = time.monotonic() - started
    finally:
        done.set()
        sampler.join()
    peak = max(max(samples), rss_bytes(pid, "VmHWM") if peak_reset else 0)
    return Download(status, headers, size, first_byte, seconds, lines, peak - baseline)
