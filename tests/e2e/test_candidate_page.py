"""The candidate's view of a whole interview in headless Chromium, against the real server.

The candidate always knows where things stand (question k of n, a state line, a timer), the
live view keeps the conversation and the controls on screen on a laptop and on a phone,
ending asks for a confirmation that says what ending means, and the page says what happens
next. axe-core checks the page before, during and after. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import time

import pytest

from tests.a11y import assert_accessible
from tests.browser import wait_until
from tests.e2e.conftest import ROOT
from tests.e2e.fake_mic import build_fake_mic

pytestmark = pytest.mark.e2e

QUESTIONS = [
    "What made you apply for this role?",
    "Tell me about a problem you solved for a customer.",
]
PLAN = [
    ("device_check", 0.5, "Testing, one, two, three."),
    ("answer", 14.0, "I like helping people, and I enjoy finding out why something broke."),
]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "var" / "screenshots"

IN_VIEW_JS = """(selector) => {
  const node = document.querySelector(selector);
  if (!node || node.hidden) return false;
  const r = node.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
    && r.left >= 0 && r.right <= window.innerWidth;
}"""
STATE_LINES_JS = """() => window.interviewTelemetry.events
  .filter((e) => e.type === "state_line").map((e) => [e.line, e.progress])"""
LIVE_VIEW = ("#live-status", "#transcript-card", "#end")


OPEN_INTERVIEWER_WORDS_JS = """() => [...document.querySelectorAll(
    '#transcript li.interviewer.partial .text')].some(el => el.textContent.trim().length > 0)"""


def seconds(timer: str) -> int:
    """'m:ss' or 'h:mm:ss' → seconds."""
    total = 0
    for part in timer.split(":"):
        total = total * 60 + int(part)
    return total


def page_ready(page) -> None:
    wait_until(page, "window.interviewTelemetry !== undefined", timeout=15_000)


def phase(page) -> str:
    return page.evaluate("document.body.dataset.phase || ''")


def state_line(page) -> str:
    return page.inner_text("#state-line")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def start_interview(page, mic) -> None:
    """Device check, consent, and Start once the fake microphone's test phrase is over."""
    page_ready(page)
    page.click("#check-devices")
    wait_until(page, "document.body.dataset.phase === 'ready'", timeout=30_000)
    ready_at = time.monotonic()
    page.check("#consent")
    while time.monotonic() - ready_at < mic.cues[0].end + 1.0:
        page.wait_for_timeout(100)
    page.click("#start")


def check_live_view(page, label: str) -> None:
    """Progress, state line, conversation and the End button are all on screen."""
    hidden = [sel for sel in LIVE_VIEW if not page.evaluate(IN_VIEW_JS, sel)]
    assert not hidden, f"{label}: not in view without scrolling: {hidden}"


def test_candidate_knows_where_things_stand_and_ends_on_purpose(
    product_server, launch_browser, artifacts
):
    mic = build_fake_mic(artifacts / "candidate_mic.wav", PLAN, 60.0)
    _, link = product_server.create_interview(QUESTIONS, job="Support engineer")
    context = launch_browser(fake_audio=mic.path)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{link}?raw_audio=1")
    try:
        page_ready(page)
    except AssertionError:
        raise AssertionError(f"the page's scripts did not run: {errors}") from None
    assert_accessible(page, "the candidate page before the interview")
    start_interview(page, mic)

    # Live: wait for the interviewer's voice, then check layout and accessibility while it speaks.
    deadline = time.monotonic() + 90
    while state_line(page) != "The interviewer is speaking":
        assert time.monotonic() < deadline, f"no interviewer voice; state {state_line(page)!r}"
        page.wait_for_timeout(100)
    assert page.inner_text("#question-progress") == "Question 1 of 2"
    # Captions: the interviewer's words show while it speaks, before its line is final.
    deadline = time.monotonic() + 30
    while not page.evaluate(OPEN_INTERVIEWER_WORDS_JS):
        assert time.monotonic() < deadline, "no caption while the interviewer speaks"
        page.wait_for_timeout(50)
    assert state_line(page) == "The interviewer is speaking"
    check_live_view(page, "laptop")
    shot(page, "candidate-live-laptop")
    assert_accessible(page, "the candidate page during the interview")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    check_live_view(page, "phone")
    shot(page, "candidate-live-phone")
    page.set_viewport_size(LAPTOP)

    # The answer moves the interview to the second question; then it is the candidate's turn.
    deadline = time.monotonic() + 120
    while not (
        page.inner_text("#question-progress") == "Question 2 of 2"
        and state_line(page).startswith("Your turn")
    ):
        assert time.monotonic() < deadline, (
            f"never reached the second question's answer: {page.evaluate(STATE_LINES_JS)}"
        )
        page.wait_for_timeout(100)
    timer = page.inner_text("#timer")
    assert timer != "0:00" and ":" in timer, timer
    # With the conversation under way, it and the controls still fit on both screens.
    assert page.locator("#transcript li").count() >= 2
    check_live_view(page, "laptop, second question")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    check_live_view(page, "phone, second question")
    shot(page, "candidate-second-question-phone")
    page.set_viewport_size(LAPTOP)

    # Ending asks first and says what ending means; "Keep going" changes nothing.
    page.click("#end")
    wait_until(page, "document.getElementById('end-dialog').open", timeout=5_000)
    dialog_text = page.inner_text("#end-dialog")
    assert "cannot start again" in dialog_text and "hiring team" in dialog_text
    assert_accessible(page, "the end confirmation")
    shot(page, "candidate-end-dialog-laptop")
    page.click("#end-cancel")
    assert not page.evaluate("document.getElementById('end-dialog').open")
    assert phase(page) == "live"
    page.click("#end")
    page.click("#end-confirm")

    wait_until(page, "document.body.dataset.phase === 'done'", timeout=240_000)
    wait_until(page, "!document.getElementById('complete-card').hidden", timeout=5_000)
    body = page.inner_text("body")
    assert "What happens next" in body
    assert "still being transcribed" not in body.lower()
    lines = page.evaluate(STATE_LINES_JS)
    seen = [line for line, _ in lines]
    for expected in (
        "Connecting…",
        "The interviewer is speaking",
        "Your turn: answer out loud",
        "Ending the interview…",
        "Uploading your recording…",
        "Done",
    ):
        assert expected in seen, f"state line never said {expected!r}: {seen}"
    progress = [p for _, p in lines]
    assert progress.index("Question 1 of 2") < progress.index("Question 2 of 2"), progress
    assert_accessible(page, "the candidate page after the interview")
    shot(page, "candidate-done-laptop")
    page.set_viewport_size(PHONE)
    shot(page, "candidate-done-phone")


LINES_JS = """() => [...document.querySelectorAll('#transcript li')].map((li) => [
  li.classList.contains('partial') ? 'partial' : li.className.split(' ')[0],
  li.querySelector('.text').textContent])"""


def test_a_reload_mid_interview_picks_up_where_it_left_off(
    product_server, launch_browser, artifacts
):
    mic = build_fake_mic(artifacts / "reload_mic.wav", PLAN, 60.0)
    _, link = product_server.create_interview(QUESTIONS, job="Field engineer")
    context = launch_browser(fake_audio=mic.path)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave this page?" on the reload
    page.goto(f"{link}?raw_audio=1")
    start_interview(page, mic)

    # The first answer is in and transcribed, and the second question has been asked.
    deadline = time.monotonic() + 240
    while True:
        lines = page.evaluate(LINES_JS)
        roles = [role for role, _ in lines]
        # Final lines only: a caption line is still open while the interviewer speaks.
        if roles.count("interviewer") >= 2 and "candidate" in roles and "partial" not in roles:
            break
        assert time.monotonic() < deadline, f"the first answer never made it: {lines}"
        page.wait_for_timeout(200)
    before = page.evaluate(LINES_JS)
    # The answer's words arrived as a caption before its line was final.
    captions = page.evaluate("window.interviewTelemetry.captions")
    assert captions.get("candidate", 0) >= 1, captions
    timer_before = seconds(page.inner_text("#timer"))

    page.reload()
    page_ready(page)
    # At once, from the server: the conversation so far, and the consent already given.
    # (Stored lines come back in timeline order; live, a transcript may arrive after a reply.)
    restored = page.evaluate(LINES_JS)
    assert len(restored) == len(before) and all(line in restored for line in before), (
        before,
        restored,
    )
    assert page.is_checked("#consent")
    # The devices are asked for again and the interview goes on without another click.
    wait_until(page, "document.body.dataset.phase === 'live'", timeout=60_000)
    assert page.inner_text("#question-progress") == "Question 2 of 2"
    deadline = time.monotonic() + 90
    while state_line(page) != "The interviewer is speaking":
        assert time.monotonic() < deadline, f"the interviewer did not go on: {state_line(page)!r}"
        page.wait_for_timeout(100)
    # The timer counts from the interview's start, not from the reload: it goes on from where
    # it was (a quick resume may still show the same second for a moment).
    assert seconds(page.inner_text("#timer")) >= timer_before, page.inner_text("#timer")
    deadline = time.monotonic() + 5
    while seconds(page.inner_text("#timer")) <= timer_before:
        assert time.monotonic() < deadline, f"the timer stopped: {page.inner_text('#timer')}"
        page.wait_for_timeout(100)
    shot(page, "candidate-resumed-laptop")
    assert_accessible(page, "the candidate page after a reload")

    # The continued part is recorded and uploaded like any other.
    page.click("#end")
    page.click("#end-confirm")
    wait_until(page, "document.body.dataset.phase === 'done'", timeout=240_000)
    after = page.evaluate(LINES_JS)
    assert all(line in after for line in before)
