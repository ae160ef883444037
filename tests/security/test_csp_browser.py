"""The pages work under the Content-Security-Policy: Chromium reports no violation on the
candidate page (device check, a live session, the upload), the admin interview page and
the Data Explorer (filters, the calendar)."""

import re

import pytest

from tests.browser import CSP_WATCH, csp_violations, wait_until
from tests.e2e.conftest import chromium_args, require_browser

from .live import live_server

pytestmark = pytest.mark.e2e

SETUP = """
import struct
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from interviews.invitations import make_token
from interviews.models import Interview
from interviews.services import create_interview
from media_export.models import MediaExport

root = User.objects.create_superuser("csp-root", "root@example.com", "csp-root-password-1")
s = SessionStore()
s[SESSION_KEY] = str(root.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = root.get_session_auth_hash()
s.create()

recorded, _ = create_interview(job_title="Eng", candidate_name="R", candidate_email="r@x.io")
audio = settings.UPLOADS_AUDIO_DIR
audio.mkdir(parents=True, exist_ok=True)
samples = bytes(48000)  # one second of silence, 24 kHz mono PCM16
header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt " + struct.pack(
    "<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16) + b"data" + struct.pack("<I", len(samples))
paths = {}
for name in ("mic", "ai", "mixed"):
    (audio / f"{recorded.pk}_{name}.wav").write_bytes(header + samples)
    paths[name] = f"uploads/audio/{recorded.pk}_{name}.wav"
Interview.objects.filter(pk=recorded.pk).update(status="completed", audio_paths=paths)
MediaExport.objects.create(interview=recorded, status="done", timeline={
    "duration": 1.0, "mic": [[0.1, 0.4]], "ai": [[0.5, 0.9]], "cuts": [0.7],
    "turns": [{"mic_end": 0.4, "ai_start": 0.5, "latency_ms": 100}],
    "missing_telemetry": 0, "snapped": 0, "dropped_after_cut": 0})

live, _ = create_interview(job_title="Eng", candidate_name="L", candidate_email="l@x.io",
                           questions=["Why this role?"])
print(s.session_key, recorded.pk, make_token(live))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_browser()
    with live_server(tmp_path_factory.mktemp("csp")) as server:
        assert (
            server.shell(
                "from django.core.management import call_command\n"
                "call_command('seed_explorer', tasks=200, seed=1, verbosity=0)\nprint('ok')"
            )
            == "ok"
        )
        server.session, recorded, server.token = server.shell(SETUP).split()
        server.recorded = int(recorded)
        yield server


@pytest.fixture
def browser(site, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(require_browser()),
            headless=True,
            args=chromium_args(None),
            viewport={"width": 1280, "height": 900},
        )
        context.add_init_script(CSP_WATCH)
        context.add_cookies([{"name": "sessionid", "value": site.session, "url": site.url}])
        context.console = []
        context.on(
            "console",
            lambda msg: context.console.append(msg.text) if msg.type == "error" else None,
        )
        context.on("weberror", lambda err: context.console.append(f"pageerror: {err.error}"))
        yield context
        context.close()


def violations(context) -> list[str]:
    return csp_violations(context.console)


def test_the_watch_sees_a_violation(site, browser):
    """Control: an inline script on a page is blocked and reported, so "none" means none."""
    page = browser.new_page()
    page.goto(f"{site.url}/admin/data-explorer")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1';"
        " document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert violations(browser), browser.console


def test_the_candidate_page_runs_a_session_without_violations(site, browser):
    page = browser.new_page()
    page.goto(f"{site.url}/interview/{site.token}/")
    wait_until(page, "window.interviewTelemetry !== undefined", timeout=15_000)
    page.click("#check-devices")
    wait_until(page, "document.body.dataset.phase === 'ready'", timeout=20_000)
    page.check("#consent")
    page.click("#start")
    wait_until(page, "document.body.dataset.phase === 'live'", timeout=10_000)
    # The interviewer's greeting arrives over the websocket and is played and transcribed.
    page.wait_for_selector("#transcript li", timeout=30_000)
    # Ending uploads the last recording part and completes the segment, which queues the export.
    completes = re.compile(r"/recording/\d+/complete(\?|$)")
    with page.expect_response(lambda r: completes.search(r.url) is not None) as upload:
        page.click("#end")
        page.click("#end-confirm")  # ending asks first
    assert upload.value.status == 202
    assert not violations(browser), browser.console
    assert not [line for line in browser.console if line.startswith("pageerror")], browser.console


def test_the_admin_interview_page_has_no_violations(site, browser):
    page = browser.new_page()
    page.goto(f"{site.url}/admin/interviews/interview/{site.recorded}/change/")
    page.wait_for_selector("#review-picture svg")
    page.wait_for_load_state("networkidle")
    assert page.locator("audio").count() == 3
    # The players load their files (media-src) and the picture keeps its styles (style-src).
    page.evaluate(
        "document.querySelectorAll('audio').forEach(a => { a.preload = 'metadata'; a.load(); })"
    )
    wait_until(
        page,
        "[...document.querySelectorAll('audio')].every(a => a.readyState >= 1)",
        timeout=10_000,
    )
    font = page.evaluate(
        "getComputedStyle(document.querySelector('svg.interview-timeline text')).fontSize"
    )
    assert font == "11px"
    assert not violations(browser), browser.console


def test_the_data_explorer_has_no_violations(site, browser):
    page = browser.new_page()
    page.goto(f"{site.url}/admin/data-explorer")
    wait_until(page, "/^[0-9,]+ tasks?$/.test(document.getElementById('result-count').textContent)")
    before = page.inner_text("#result-count")
    page.locator("label", has=page.get_by_role("checkbox", name="Approved")).first.click()
    wait_until(page, "t => document.getElementById('result-count').textContent !== t", arg=before)
    page.click("#f-created")
    page.wait_for_selector(".flatpickr-calendar.open")
    page.click("th[data-sort=quality_rating]")
    page.wait_for_url(lambda url: "sort_by=quality_rating" in url)
    assert not violations(browser), browser.console
