"""axe-core in the browser tests: the serious and critical violations on a page.

axe-core is a test-only npm dependency (``package.json``; ``make test`` runs ``npm ci``).
Its script is evaluated through the DevTools protocol rather than added as a ``<script>``
tag, so the pages' Content-Security-Policy stays in force while they are checked.
Outside CI a missing axe-core skips the calling test; under ``CI=true`` it fails it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def require_axe() -> Path:
    if not AXE.exists():
        reason = f"axe-core not installed at {AXE.relative_to(ROOT)} (run `npm ci`)"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE


def violations(page, *, context: str | None = None, impacts=BLOCKING) -> list[dict]:
    """Violations of at least one of ``impacts`` on ``page`` (or inside the ``context`` selector)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(require_axe().read_text() + "\n;0")
    result = page.evaluate(
        "async (context) => axe.run(context ? document.querySelector(context) : document,"
        " {resultTypes: ['violations']})",
        context,
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        targets = [" ".join(node["target"]) for node in v["nodes"][:3]]
        lines.append(f"{v['impact']} {v['id']}: {v['help']} — {', '.join(targets)}")
    return "\n".join(lines)


def assert_accessible(page, label: str, *, context: str | None = None) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    found = violations(page, context=context)
    assert not found, f"axe-core on {label}:\n{describe(found)}"
