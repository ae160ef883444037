"""The e2e server's database: SQLite given as DATABASE_URL must be set up like the default one.

daphne and the export worker write to the same SQLite file at once; without WAL and a
busy timeout a write fails with "database is locked" and, for example, a transcript
row is lost mid-interview (seen in the browser scenario).
"""

import json
import os
import subprocess
import sys

from tests.e2e.conftest import ROOT


def test_sqlite_from_database_url_gets_wal_and_a_busy_timeout(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "settings-test",
        "DJANGO_SETTINGS_MODULE": "interviewsite.settings",
    }
    script = (
        "import json\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode')\n"
        "    mode = c.fetchone()[0]\n"
        "    c.execute('PRAGMA busy_timeout')\n"
        "    busy = c.fetchone()[0]\n"
        "opts = connection.settings_dict['OPTIONS']\n"
        "print(json.dumps({'mode': mode, 'busy': busy, 'tx': opts.get('transaction_mode')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got == {"mode": "wal", "busy": 20000, "tx": "IMMEDIATE"}
