"""Fixtures for the browser tests: the real server (daphne + export worker) and Chromium.

The server runs exactly as in production, in its own processes, on a free
127.0.0.1 port with a temporary SQLite database and MEDIA_ROOT; the tests talk
to it over HTTP and WebSocket only, and read its files and database afterwards.
Outside CI the browser tests skip when Chromium or Playwright is missing; with
``CI=true`` they fail instead, so a broken CI image cannot pass silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/lib/chromium/chromium")
ARTIFACT_MARKER = ".e2e-artifacts"
SUPERUSER = ("e2e-admin", "e2e-admin@example.com", "e2e-" + secrets.token_urlsafe(12))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _browser_unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return None


def require_browser() -> Path:
    """Chromium's path; skips the calling test when it cannot run, or fails under CI=true."""
    reason = _browser_unavailable()
    if reason:
        if _in_ci():
            pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
        pytest.skip(f"end-to-end browser tests skipped: {reason}")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    return require_browser()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The artifact folder: ``$E2E_ARTIFACTS`` (``make e2e`` uses ``var/e2e``) or a temp dir.

    A folder this suite made before (it holds the marker file) is emptied first,
    so its contents always belong to one run.
    """
    configured = os.environ.get("E2E_ARTIFACTS", "").strip()
    if configured:
        path = Path(configured)
        if not path.is_absolute():
            path = ROOT / path
        if path.exists() and (path / ARTIFACT_MARKER).exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="e2e-artifacts-"))
    (path / ARTIFACT_MARKER).write_text("Files written by tests/e2e; replaced on every run.\n")
    print(f"\n[e2e] artifacts: {path}")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ProductServer:
    base_url: str
    env: dict
    media_root: Path
    database: Path
    logs: Path
    processes: dict = field(default_factory=dict)

    def manage(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def query(self, code: str) -> object:
        """Run Python in a Django shell against the server's database; ``code`` sets ``result``."""
        script = f"import json\n{code}\nprint('@@' + json.dumps(result, default=str))"
        out = self.manage("shell", "-c", script).stdout
        for line in out.splitlines():
            if line.startswith("@@"):
                return json.loads(line[2:])
        raise AssertionError(f"no result from shell:\n{out}")

    def create_interview(
        self, questions: list[str], job: str, name: str = "Ada Example"
    ) -> tuple[int, str]:
        """A new interview (and job, when the title is new); returns (id, invitation link)."""
        args = [
            "create_interview",
            "--job",
            job,
            "--candidate-name",
            name,
            "--candidate-email",
            f"ada.{secrets.token_hex(3)}@example.com",
            "--base-url",
            self.base_url,
        ]
        for question in questions:
            args += ["--question", question]
        proc = self.manage(*args)
        link = proc.stdout.strip().splitlines()[-1].strip()
        match = re.search(r"#(\d+)", proc.stderr)
        assert link.startswith(self.base_url) and match, (proc.stdout, proc.stderr)
        return int(match.group(1)), link

    def alive(self) -> dict[str, int | None]:
        return {name: p.poll() for name, p in self.processes.items()}

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_http(url: str, server: ProductServer, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        dead = {k: v for k, v in server.alive().items() if v is not None}
        if dead:
            raise RuntimeError(
                f"server process exited early {dead}:\n{server.log_tail('daphne')}\n"
                f"{server.log_tail('worker')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout}s: {last}")


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _worker_command() -> list[str]:
    own = ROOT / "media_export" / "management" / "commands" / "run_export_worker.py"
    if own.exists():
        return [sys.executable, "manage.py", "run_export_worker"]
    return [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"]


@pytest.fixture(scope="session")
def product_server(chromium_executable, artifacts, tmp_path_factory) -> ProductServer:
    base = tmp_path_factory.mktemp("e2e-server")
    media = base / "media"
    media.mkdir()
    database = base / "db.sqlite3"
    logs = artifacts / "logs"
    logs.mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "interviewsite.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(media),
        "VAR_DIR": str(base),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REALTIME_PROVIDER": "local",
        "DEBUG": "0",
        "LATENCY_LOGS": "1",
        "LOG_LEVEL": os.environ.get("E2E_LOG_LEVEL", "DEBUG"),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SUPERUSER_PASSWORD": SUPERUSER[2],
    }
    env.pop("REDIS_URL", None)
    server = ProductServer(
        base_url=f"http://127.0.0.1:{port}",
        env=env,
        media_root=media,
        database=database,
        logs=logs,
    )
    server.manage("migrate", "--noinput", timeout=300)
    server.manage(
        "createsuperuser", "--noinput", "--username", SUPERUSER[0], "--email", SUPERUSER[1]
    )
    commands = {
        "daphne": [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "interviewsite.asgi:application",
        ],
        "worker": _worker_command(),
    }
    handles = []
    try:
        for name, cmd in commands.items():
            log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed at teardown
            handles.append(log)
            server.processes[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_http(server.base_url + "/admin/login/", server)
        (artifacts / "server.json").write_text(
            json.dumps({"base_url": server.base_url, "media_root": str(media)}, indent=2)
        )
        yield server
    finally:
        for proc in server.processes.values():
            _stop(proc)
        for handle in handles:
            handle.close()


def chromium_args(fake_audio: Path | None, fake_ui: bool = True) -> list[str]:
    """The flags the scenario runs with (the user data dir is Playwright's persistent one)."""
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-device-for-media-stream=fps=30",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if fake_ui:
        args.append("--use-fake-ui-for-media-stream")
    if fake_audio is not None:
        args.append(f"--use-file-for-fake-audio-capture={fake_audio}")
    return args


@pytest.fixture
def launch_browser(chromium_executable, tmp_path):
    """Start Chromium with a fresh user data dir; closed at teardown."""
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    contexts = []

    def launch(fake_audio: Path | None = None, fake_ui: bool = True, **options):
        profile = tmp_path / f"profile-{len(contexts)}"
        profile.mkdir()
        context = manager.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium_executable),
            headless=True,
            args=chromium_args(fake_audio, fake_ui),
            viewport={"width": 1280, "height": 900},
            **options,
        )
        contexts.append(context)
        return context

    try:
        yield launch
    finally:
        for context in contexts:
            with contextlib.suppress(Exception):
                context.close()
        manager.stop()


@pytest.fixture(scope="session")
def superuser() -> tuple[str, str]:
    return SUPERUSER[0], SUPERUSER[2]
