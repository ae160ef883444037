"""The full CSV export streams through a real daphne process with flat server memory.

Through the Django test client nothing streams, so this starts daphne on a scratch
database, downloads a 150,000-row export and watches the server's resident memory.
"""

import os
import threading
import time

import pytest

from admin_explorer.procstat import reset_peak, rss_bytes

from .daphne_server import Daphne, manage, scratch_database, server_env, staff_session

ROWS = 150_000
MB = 1024 * 1024


@pytest.fixture(scope="module")
def seeded_env(tmp_path_factory):
    """A scratch database of the suite's kind: a SQLite file, or a new PostgreSQL database."""
    var_dir = tmp_path_factory.mktemp("streaming")
    with scratch_database(os.environ.get("DATABASE_URL", "")) as url:
        env = server_env(var_dir, url)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_explorer", "--tasks", str(ROWS), "--seed", "5")
        yield env


def test_full_csv_export_streams_with_flat_memory(seeded_env):
    session = staff_session(seeded_env)
    with Daphne(seeded_env) as server:
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
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        lines = 0

        def count(chunk: bytes) -> None:
            nonlocal lines
            lines += chunk.count(b"\n")

        started = time.monotonic()
        try:
            status, headers, size, first_byte = server.get(
                "/api/admin/data/export?format=csv", session, count
            )
        finally:
            done.set()
            sampler.join()
        total = time.monotonic() - started
        peak = max(max(samples), rss_bytes(pid, "VmHWM") if peak_reset else 0)

    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    assert lines == ROWS + 1  # header + every row (names contain no line breaks)
    growth = peak - baseline
    # A buffered body would hold the whole ~30 MB file (and more as Python objects).
    assert size > 25 * MB
    assert growth < 20 * MB, f"server RSS grew {growth / MB:.1f} MB for a {size / MB:.1f} MB body"
    # Bytes arrive while rows are still being read, not after the whole body was built.
    assert first_byte < total * 0.25, (first_byte, total)
