"""Steps the browser scenarios share: screenshots, the page's phase, starting, the export."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.browser import wait_until

START_AFTER_CHECK = 3.5  # seconds: the device-check phrase is over before Start


class Screens:
    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder / "screenshots"
        self.folder.mkdir(exist_ok=True)
        self.taken: list[str] = []

    def take(self, name: str, page=None, full_page: bool = True) -> Path:
        path = self.folder / f"{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=full_page)
        self.taken.append(path.name)
        return path


def phase(page) -> str:
    return page.evaluate("document.body.dataset.phase || ''")


def page_ready(page) -> None:
    """The page's module scripts have run (buttons are wired)."""
    wait_until(page, "window.interviewTelemetry !== undefined", timeout=15_000)


def check_devices_and_start(
    page,
    shots: Screens,
    mic,
    timings: dict,
    shot: str = "01-device-check",
    start_after: float = START_AFTER_CHECK,
) -> None:
    """Device check (the fake mic says its test phrase), consent, then Start ``start_after``
    seconds after the devices are ready (and after the test phrase)."""
    page_ready(page)
    page.click("#check-devices")
    wait_until(page, "document.body.dataset.phase === 'ready'", timeout=20_000)
    ready_at = time.monotonic()
    # The fake mic says its test phrase now: catch the level meter moving.
    wait_until(page, "document.getElementById('mic-level').value > 0.02", timeout=10_000)
    shots.take(shot)
    page.check("#consent")
    check_end = mic.cues[0].end + 1.0
    while time.monotonic() - ready_at < max(start_after, check_end):
        page.wait_for_timeout(100)
    page.click("#start")
    timings["start"] = time.monotonic()


def export_status(server, interview_id: int, token: str) -> dict:
    url = f"{server.base_url}/api/interviews/{interview_id}/export?token={token}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def wait_for_export(server, interview_id: int, token: str, timeout: float) -> dict:
    """Poll the status API until the export is done or failed (the page polls it too)."""
    deadline = time.monotonic() + timeout
    status = export_status(server, interview_id, token)
    while status["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.25)
        status = export_status(server, interview_id, token)
    return status


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
