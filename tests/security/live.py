"""The project under a real daphne process, started as the README says, on a scratch database.

Its standard output and error are kept in a file: daphne's access log and the project's
log lines are read by the tests, exactly as an operator would read them.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.admin_explorer.daphne_server import (
    ROOT,
    free_port,
    manage,
    scratch_database,
    server_env,
    staff_session,
)


@dataclass
class LiveServer:
    env: dict
    port: int
    log: Path
    proc: subprocess.Popen
    session: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body=None, headers: dict | None = None, timeout=30.0
    ) -> tuple[int, dict, bytes]:
        """One request; a body given as an iterator is sent with chunked transfer encoding."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Host": "localhost", **(headers or {})}
        chunked = body is not None and not isinstance(body, bytes | str)
        try:
            conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def shell(self, code: str) -> str:
        """Run ``code`` in a Django shell against the server's database; its last line."""
        return manage(self.env, "shell", "-c", code).strip().splitlines()[-1]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> str:
        """The server's output once it holds ``text`` (the access log is written after the reply)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            if text in output:
                return output
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared in the server output:\n{self.output()}")


@contextlib.contextmanager
def live_server(tmp_path: Path, extra_env: dict | None = None):
    """daphne with its default verbosity (access log on stdout), a staff session ready."""
    with scratch_database(os.environ.get("DATABASE_URL", "")) as database_url:
        env = {**server_env(tmp_path, database_url), "LOG_LEVEL": "INFO", **(extra_env or {})}
        env["MEDIA_ROOT"] = str(tmp_path / "media")
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        session = staff_session(env)
        port = free_port()
        log = tmp_path / "daphne.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                 "interviewsite.asgi:application"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        server = LiveServer(env=env, port=port, log=log, proc=proc, session=session)
        try:
            _wait_listening(server)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_listening(server: LiveServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"daphne exited:\n{server.output()}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("daphne did not start listening")
