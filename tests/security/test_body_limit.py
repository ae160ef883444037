"""A huge request body to any URL is refused before daphne reads it: memory stays flat."""

import socket
import time

import pytest

from admin_explorer.procstat import reset_peak, rss_bytes

from .live import live_server

MB = 1024 * 1024
HOSTILE_BYTES = 300 * MB
BOUNDARY = "xyzzy"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("body-limit")) as live:
        yield live


def _send_hostile(port: int, path: str, *, chunked: bool, content_type: str) -> bytes:
    """Send headers and up to 300 MB of body; return whatever the server answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {HOSTILE_BYTES}\r\n"
    block = (f"--{BOUNDARY}\r\n".encode() + b"a" * MB)[:MB]
    answer = b""
    try:
        sock.sendall((head + "\r\n").encode())
        sent = 0
        while sent < HOSTILE_BYTES:
            piece = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
            sock.sendall(piece)
            sent += len(block)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed the connection: it stopped reading
    try:
        while data := sock.recv(65536):
            answer += data
    except OSError:
        pass
    sock.close()
    return answer


@pytest.mark.parametrize(
    ("path", "chunked", "content_type"),
    [
        ("/api/interviews/upload/video", False, f"multipart/form-data; boundary={BOUNDARY}"),
        ("/", False, "application/octet-stream"),
        ("/api/admin/data", True, f"multipart/form-data; boundary={BOUNDARY}"),
    ],
    ids=["multipart-upload", "octet-root", "chunked-multipart"],
)
def test_a_300_mb_body_to_any_url_is_refused_with_flat_memory(server, path, chunked, content_type):
    pid = server.proc.pid
    assert server.request("GET", "/admin/login/")[0] == 200  # warm
    baseline = rss_bytes(pid)
    peak_reset = reset_peak(pid)
    answer = _send_hostile(server.port, path, chunked=chunked, content_type=content_type)
    peak = rss_bytes(pid, "VmHWM") if peak_reset else rss_bytes(pid)
    growth = peak - baseline
    assert growth < 64 * MB, f"daphne grew by {growth / MB:.0f} MB"
    if answer:  # the answer can be lost when the client is still sending as the socket closes
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"too_large"' in answer
    # The server still answers, and the process is alive.
    assert server.proc.poll() is None
    assert server.request("GET", "/admin/login/")[0] == 200


def test_the_413_is_answered_before_the_body_is_sent(server):
    """A client that waits (like ``Expect: 100-continue``) gets the refusal at once."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        (
            "PUT /api/interviews/1/recording/0/parts/0 HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Length: {HOSTILE_BYTES}\r\nExpect: 100-continue\r\n\r\n"
        ).encode()
    )
    deadline = time.monotonic() + 30
    answer = b""
    while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_body_under_the_limit_still_reaches_the_application(server):
    body = b"x" * (2 * MB)
    status, _headers, content = server.request(
        "POST",
        "/api/interviews/upload/video",
        body=body,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(body))},
    )
    assert status in (400, 403, 410, 415), content[:200]  # the view answered, not daphne
    assert b"error" in content
