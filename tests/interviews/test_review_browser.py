"""The review page and the interview list in headless Chromium: seeking, saving, axe-core.

Screenshots of both pages at a laptop and a phone size land in ``var/screenshots/``.
"""

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client

from interviews.models import Candidate, Interview, Job, Review, TranscriptEntry
from media_export.models import MediaExport
from tests.a11y import assert_accessible
from tests.browser import CSP_WATCH, csp_violations, wait_until
from tests.media_export.helpers import make_video, tone, write_wav

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--headless=new", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
ZERO = 100.0  # the MP4 starts 100 s into the interview's client clock
DURATION = 30.0
LINES = [
    (1.0, "interviewer", "Tell me about a recent technical problem you solved for a customer."),
    (5.0, "candidate", "A customer's exports kept timing out, so I traced the slow query."),
    (9.0, "interviewer", "How did you find it?"),
    (14.0, "candidate", "I read the query plan and saw a sequential scan over the events."),
    (18.0, "interviewer", "How do you decide what to do first when several issues arrive?"),
    (24.0, "candidate", "Whatever blocks the most people first, then the oldest."),
]
LAPTOP, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def recorded_interview(media: Path) -> Interview:
    job = Job.objects.create(title="Support Engineer (Platform Reliability, Europe)")
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    interview = Interview.objects.create(
        job=job,
        candidate=Candidate.objects.create(name="Ada Lovelace", email="ada@example.com"),
        status=Interview.Status.EXPORTED,
        end_reason=Interview.EndReason.INTERVIEWER_FINISHED,
        started_at=start,
        ended_at=start + dt.timedelta(seconds=DURATION),
        latency={"turns": 2, "voice_to_voice_ms": {"p50": 1180, "p95": 1310, "n": 2}},
    )
    videos = media / "uploads" / "videos"
    videos.mkdir(parents=True)
    wav = write_wav(media / "tone.wav", tone(440, DURATION).astype(np.int16))
    make_video(videos / f"{interview.pk}.mp4", wav, codec="h264", seconds=DURATION)
    interview.video_url = f"/media/uploads/videos/{interview.pk}.mp4"
    interview.save()
    for at, role, text in LINES:
        TranscriptEntry.objects.create(
            interview=interview, role=role, text=text, start_seconds=ZERO + at
        )
    MediaExport.objects.create(
        interview=interview,
        status=MediaExport.Status.DONE,
        timeline_zero=ZERO,
        timeline={
            "duration": DURATION,
            "mic": [[5.0, 8.2], [14.0, 17.3], [24.0, 28.0]],
            "ai": [[1.0, 4.5], [9.2, 11.0], [18.4, 22.0]],
            "cuts": [],
            "turns": [
                {"mic_end": 8.2, "ai_start": 9.2, "latency_ms": 1000},
                {"mic_end": 17.3, "ai_start": 18.4, "latency_ms": 1100},
            ],
        },
    )
    # Other rows for the list: one cut short, one still open, names long enough to wrap.
    Interview.objects.create(
        job=job,
        candidate=Candidate.objects.create(
            name="Bartholomew Fitzgerald-Montgomery", email="bart@example.com"
        ),
        status=Interview.Status.EXPORTED,
        end_reason=Interview.EndReason.CANDIDATE_ENDED,
        started_at=start,
        ended_at=start + dt.timedelta(seconds=14),
    )
    Interview.objects.create(
        job=job, candidate=Candidate.objects.create(name="Chen Wei", email="chen@example.com")
    )
    return interview


@pytest.fixture
def browser_page(live_server, transactional_db, _media_root):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    user = User.objects.create_superuser("reviewer", "r@example.com", "pw")
    client = Client()
    client.force_login(user)
    interview = recorded_interview(_media_root)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=LAPTOP)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        console, errors = [], []
        page.on("console", lambda m: console.append(m.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.console = console
        page.base = live_server.url
        page.interview = interview
        page.user = user
        yield page
        browser.close()
        assert not errors, errors


def checked(page, label: str) -> None:
    """The page broke no policy rule so far, and axe-core finds nothing serious on it.

    The policy is checked first: axe-core itself tries inline styles while it measures.
    """
    assert not csp_violations(page.console), "\n".join(page.console)
    assert_accessible(page, label)


def outside_the_browser_loop(query):
    """Runs ``query`` in a thread of its own: Playwright's event loop runs in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(query).result()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1440x900", LAPTOP), ("390x844", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True, caret="initial")
    page.set_viewport_size(LAPTOP)


def playing_at(page, seconds: float, line: int) -> None:
    """The video stands at ``seconds`` and transcript line ``line`` (0-based) is highlighted."""
    wait_until(
        page,
        "([t]) => Math.abs(document.getElementById('review-video').currentTime - t) < 1.0",
        [seconds],
    )
    wait_until(
        page,
        "([n]) => document.querySelectorAll('#review-lines li')[n].classList.contains('is-current')",
        [line],
    )
    current = page.locator("#review-lines li.is-current")
    assert current.count() == 1
    assert current.locator("button").get_attribute("aria-current") == "true"


def test_the_transcript_and_the_picture_seek_the_recording(browser_page):
    page = browser_page
    page.goto(f"{page.base}/admin/interviews/interview/{page.interview.pk}/change/")
    wait_until(page, "document.getElementById('review-video').readyState >= 1")
    assert page.evaluate("document.getElementById('review-video').duration") == pytest.approx(
        DURATION, abs=0.5
    )

    page.locator("#review-lines li").nth(3).locator("button").click()
    playing_at(page, 14.0, 3)

    # A point on the timeline picture: 24 s lies at x = 70 + 24/30 * 880 in the picture's viewBox.
    box = page.locator("#review-picture svg").bounding_box()
    x = box["x"] + (70 + 24.0 / DURATION * 880) / 960 * box["width"]
    y = box["y"] + 37 / 130 * box["height"]
    page.mouse.click(x, y)
    playing_at(page, 24.0, 5)

    # A time in the latency table seeks too.
    page.locator(".review-latency button[data-seek]").first.click()
    playing_at(page, 8.2, 1)

    page.evaluate("document.getElementById('review-video').pause()")
    checked(page, "the review page")
    shoot(page, "review-page")


def test_a_review_is_saved_from_the_page_and_shown_in_the_list(browser_page):
    page = browser_page
    page.goto(f"{page.base}/admin/interviews/interview/{page.interview.pk}/change/")
    page.get_by_role("radio", name="4").check()
    page.get_by_role("radio", name="Advance").check()
    page.get_by_label("Notes").fill("Clear, structured answers; strong on debugging.")
    page.get_by_role("button", name="Save review").click()
    page.wait_for_selector("text=Review saved.")
    saved = outside_the_browser_loop(
        lambda: Review.objects.select_related("reviewer").get(interview=page.interview)
    )
    assert (saved.reviewer, saved.rating, saved.decision) == (page.user, 4, "advance")
    assert "strong on debugging" in saved.notes
    assert page.locator(".review-list").inner_text().count("Advance") == 1
    assert page.get_by_role("radio", name="4").is_checked()  # the form shows my review
    checked(page, "the review page with a review")

    page.console.clear()
    page.goto(f"{page.base}/admin/interviews/interview/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    ada = rows.filter(has_text="Ada Lovelace")
    assert "4/5" in ada.inner_text() and "Advance" in ada.inner_text()
    assert "Complete" in ada.inner_text() and "0:30" in ada.inner_text()
    early = rows.filter(has_text="Bartholomew")
    assert "Ended early" in early.inner_text() and "Ended by the candidate" in early.inner_text()
    # Ended early looks different from complete, not only in its words.
    styles = [
        page.evaluate(
            "(s) => { const e = document.querySelector(s), c = getComputedStyle(e);"
            " return [c.backgroundColor, c.borderStyle]; }",
            selector,
        )
        for selector in (".outcome-complete", ".outcome-early")
    ]
    assert styles[0] != styles[1] and styles[1][1] == "dashed"
    # Nothing clipped at 1440 px: the table fits the page, no column runs off its edge.
    shoot(page, "interview-list")
    sizes = page.evaluate(
        "() => { const t = document.getElementById('result_list');"
        " return {right: t.getBoundingClientRect().right,"
        " page: document.documentElement.clientWidth,"
        " scroll: t.parentElement.scrollWidth, box: t.parentElement.clientWidth}; }"
    )
    assert sizes["right"] <= sizes["page"] and sizes["scroll"] <= sizes["box"] + 1, sizes
    checked(page, "the interview list")
