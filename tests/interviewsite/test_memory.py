"""What a server freezes at startup: everything its requests will need, views included.

A full collection walks every tracked object outside the permanent generation, so what the
first request would import (the URLconf and every view behind it: DRF, the filters, the
serializers) must be loaded before ``freeze_loaded_objects`` runs; else each full collection
walks those tens of thousands of objects again and one request in sixty pays 15-25 ms.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import gc, importlib, json
    import django
    django.setup()
    from django.conf import settings
    from interviewsite.memory import freeze_loaded_objects
    freeze_loaded_objects()
    before = len(gc.get_objects())
    importlib.import_module(settings.ROOT_URLCONF)
    from django.urls import get_resolver
    get_resolver().reverse_dict  # what resolving the first request builds
    import admin_explorer.views, interviews.views
    print(json.dumps({"frozen": gc.get_freeze_count(), "new": len(gc.get_objects()) - before}))
    """
)


def test_the_views_are_frozen_with_the_startup_objects(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "interviewsite.settings",
        "SECRET_KEY": "test-only-secret-key-not-for-production",
        "VAR_DIR": str(tmp_path),
        "TRANSCRIPTION": "off",
    }
    env.pop("DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    import json

    counts = json.loads(run.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 50_000
    # Loading the URLconf after the freeze would leave thousands of new objects to walk.
    assert counts["new"] < 200, counts
