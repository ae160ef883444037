"""The end of a session: frames still in flight, and the last answer's transcript."""

import asyncio
import logging

import pytest

from interviews.models import Interview, TranscriptEntry
from realtime import session as session_module
from realtime.providers.local import LocalTiming
from realtime.transcription.quality import word_error_rate
from realtime.transcription.service import config_from_settings

from .helpers import Browser, silence_pcm
from .test_transcription import ANSWERS, QUESTIONS, GatedTranscriber, speak

pytestmark = pytest.mark.django_db(transaction=True)


async def test_mic_chunks_after_the_end_are_dropped_quietly(make_interview, caplog):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.expect("transcript", role="interviewer")
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await live.end(Interview.EndReason.INTERVIEWER_FINISHED)
    assert live.buffer.spool.closed
    with caplog.at_level(logging.DEBUG, logger="realtime.session"):
        # What the browser had already sent when the spool closed (it used to raise
        # "spool is closed" and answer internal_error).
        await live.on_mic(999, 60.0, silence_pcm(100))
        await live.on_ai_played(0, 1.0)
        await live.on_interrupted(0, 10.0)
        live.on_recording_started(0.5)
    assert "mic chunk after the session ended, dropped" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    await browser.close()


def gated_local(settings):
    settings.TRANSCRIPTION = "whisper-tiny"
    gated = GatedTranscriber(config_from_settings())
    settings.REALTIME_PROVIDER_OPTIONS = {
        "local": {"timing": LocalTiming(speed=40.0), "transcriber": gated}
    }
    return gated


async def answered_then_end(browser, interview, token):
    await browser.start(interview.pk, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    await speak(browser, ANSWERS[1])
    await browser.expect("transcript", role="interviewer", timeout=10)  # the next question
    assert "candidate" not in [m.get("role") for m in browser.messages]
    await browser.send({"event": "end"})


async def test_end_waits_for_the_last_answers_transcript(settings, make_interview):
    gated = gated_local(settings)
    settings.END_TRANSCRIPT_WAIT_SECONDS = 120  # a busy machine: the bound is tested below
    try:
        interview, token = await make_interview(QUESTIONS)
        browser = await Browser().connect()
        await answered_then_end(browser, interview, token)
        await asyncio.sleep(0.3)
        await browser.drain()
        assert "session_ended" not in browser.events()  # still hearing the last answer
        gated.gate.set()
        await browser.expect("session_ended", timeout=120)
        entry = await TranscriptEntry.objects.aget(interview=interview, role="candidate")
        assert word_error_rate(ANSWERS[1], entry.text) <= 0.25 and entry.flag == ""
    finally:
        gated.gate.set()
        gated.close(wait=True)


async def test_end_waits_no_longer_than_the_setting(settings, make_interview):
    gated = gated_local(settings)
    settings.END_TRANSCRIPT_WAIT_SECONDS = 0.5
    try:
        interview, token = await make_interview(QUESTIONS)
        browser = await Browser().connect()
        await answered_then_end(browser, interview, token)
        await browser.expect("session_ended", timeout=10)
        entry = await TranscriptEntry.objects.aget(interview=interview, role="candidate")
        assert entry.flag == "not_transcribed" and entry.start_seconds is not None
    finally:
        gated.gate.set()
        gated.close(wait=True)
