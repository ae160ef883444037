"""The full CSV export streams through a real daphne process with flat server memory.

Through the Django test client nothing streams, so this starts daphne on a scratch
database, downloads a 150,000-row export and watches the server's resident memory.
"""

import os

import pytest

from .daphne_server import (
    Daphne,
    download_watching_memory,
    manage,
    scratch_database,
    server_env,
    staff_session,
)

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
        run = download_watching_memory(server, session, "/api/admin/data/export?format=csv")

    assert run.status == 200
    assert run.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in run.headers["Content-Disposition"]
    assert run.lines == ROWS + 1  # header + every row (names contain no line breaks)
    # A buffered body would hold the whole ~30 MB file (and more as Python objects).
    assert run.size > 25 * MB
    assert run.rss_growth < 20 * MB, (
        f"server RSS grew {run.rss_growth / MB:.1f} MB for a {run.size / MB:.1f} MB body"
    )
    # Bytes arrive while rows are still being read, not after the whole body was built: the
    # response starts once the query has run and its first chunk (5,000 of 150,000 rows) is
    # read, so a failing query is an error status rather than a 200 that breaks off.
    assert run.first_byte < run.seconds * 0.5, (run.first_byte, run.seconds)
