"""The whole interview over /ws/session with the offline interviewer."""

import asyncio
import base64

import pytest
from channels.db import database_sync_to_async

from interviews.models import Interview, TranscriptEntry
from media_export.stored_spool import latest_session

from .conftest import QUESTIONS
from .helpers import Browser, catch_up, noise_pcm, silence_pcm, speech_pcm

pytestmark = pytest.mark.django_db(transaction=True)


async def answer(
    browser: Browser, text: str = "I fixed a billing bug that double charged customers."
):
    await catch_up(browser)
    await browser.send_audio(speech_pcm(text) + silence_pcm(700))


async def test_greeting_questions_answers_and_goodbye(make_interview, mixing_requests):
    interview, token = await make_interview()
    browser = await Browser().connect()
    ready = await browser.start(interview.pk, token)
    assert ready == {
        "event": "session_ready",
        "session_id": "sess-1",
        "interview_id": interview.pk,
        "sample_rate": 24000,
        "chunk_ms": 100,
        "resume_from_seq": 0,
    }
    await browser.send({"event": "recording_started", "timestamp": 0.05})
    greeting = await browser.expect("transcript", role="interviewer")
    assert greeting["text"].startswith("Hello Ada") and QUESTIONS[0] in greeting["text"]
    assert greeting["final"] is True
    # The offline interviewer reveals its words in step with playback, as caption deltas
    # that arrive before the final line and add up to (a prefix of) its text.
    final_at = browser.messages.index(greeting)
    captions = [
        m
        for m in browser.messages[:final_at]
        if m.get("event") == "caption" and m.get("role") == "interviewer"
    ]
    assert len(captions) > 3, "the greeting should arrive word by word"
    spoken = "".join(m["delta"] for m in captions)
    assert greeting["text"].startswith(spoken.strip()) and len(spoken) > len(greeting["text"]) / 2
    await browser.wait_ai_quiet()
    assert browser.tts and [m["seq"] for m in browser.tts] == list(range(len(browser.tts)))
    assert all(len(base64.b64decode(m["audio_b64"])) == 4800 for m in browser.tts[:-1])

    await answer(browser)
    candidate = await browser.expect("transcript", role="candidate")
    assert candidate["text"] == "[not transcribed]"  # speech-to-text is off in these tests
    assert candidate["flag"] == "not_transcribed"  # the page shows its own words for it
    second = await browser.expect("transcript", role="interviewer")
    assert QUESTIONS[1] in second["text"]
    await browser.wait_ai_quiet()

    await answer(browser, "I write unit tests first and then integration tests.")
    await browser.expect("transcript", role="candidate")
    goodbye = await browser.expect("transcript", role="interviewer")
    assert "last question" in goodbye["text"]
    await browser.wait_ai_quiet()
    answered = browser.seq  # what follows is silence racing the goodbye's end
    await catch_up(browser, extra_ms=500)
    ended = await browser.expect("session_ended", timeout=10)
    assert ended == {"event": "session_ended", "interview_id": interview.pk}
    assert (await browser.ws.receive_output(timeout=2))["type"] == "websocket.close"

    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.COMPLETED
    assert interview.latency["turns"] == 2
    assert interview.latency["voice_to_voice_ms"]["n"] == 2
    assert mixing_requests == [(interview.pk, "sess-1")]
    entries = [e async for e in TranscriptEntry.objects.filter(interview=interview)]
    assert [e.role for e in entries] == [
        "interviewer",
        "candidate",
        "interviewer",
        "candidate",
        "interviewer",
    ]
    assert all(e.start_seconds is not None and e.end_seconds >= e.start_seconds for e in entries)
    assert {e.flag for e in entries if e.role == "candidate"} == {"not_transcribed"}
    assert entries == sorted(entries, key=lambda e: e.start_seconds)

    spool = await database_sync_to_async(latest_session)(interview.pk)
    assert spool.ended_cleanly and spool.recording_started == 0.05
    # Every answer's chunk, once and in order; of the trailing silence, what arrived before the
    # session ended (chunks after the end are dropped quietly).
    kept = [c.seq for c in spool.mic]
    assert kept == list(range(len(kept))) and answered <= len(kept) <= browser.seq
    assert len(spool.ai) == len(browser.tts) and all(c.played_at is not None for c in spool.ai)
    names = [e["name"] for e in spool.events]
    assert names.count("speech_started") == 2 and names.count("turn_latency") == 2


async def test_background_noise_alone_is_not_an_answer(make_interview):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    await catch_up(browser)
    await browser.send_audio(noise_pcm(4000, dbfs=-35))
    await asyncio.sleep(0.3)
    await browser.drain()
    transcripts = [m for m in browser.messages if m.get("event") == "transcript"]
    assert [m["role"] for m in transcripts] == ["interviewer"]  # no answer, no next question
    # Speech over the same noise is still heard as an answer.
    await browser.send_audio(
        noise_pcm(200, dbfs=-35) + _mix_noise(speech_pcm(), -35) + noise_pcm(700, dbfs=-35, seed=3)
    )
    await browser.expect("transcript", role="candidate")
    second = await browser.expect("transcript", role="interviewer")
    assert QUESTIONS[1] in second["text"]


def _mix_noise(pcm: bytes, dbfs: float) -> bytes:
    from .helpers import mix

    return mix(pcm, noise_pcm(len(pcm) // 48, dbfs=dbfs, seed=2))


async def test_barge_in_stops_playback_and_truncates(make_interview, settings):
    from realtime.providers.local import LocalTiming
    from realtime.providers.vad import VadConfig

    settings.REALTIME_PROVIDER_OPTIONS = {
        "local": {
            "timing": LocalTiming(speed=1.0, lead_ms=300),
            "vad": VadConfig(silence_ms=400, calibration_ms=200),
        }
    }
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    first = await browser.expect("tts_chunk")
    # The candidate starts talking while the greeting plays (sent in real time).
    for _ in range(3):
        await browser.receive()
    browser.clock = browser.play_at - 0.25
    browser.auto_play = True
    speech = speech_pcm()
    stop = None
    for offset in range(0, len(speech), 4800):
        await browser.send_audio(speech[offset : offset + 4800], drain=False)
        await asyncio.sleep(0.1)
        for message in await browser.drain():
            if message.get("event") == "playback_stop":
                stop = message
        if stop:
            break
    assert stop == {"event": "playback_stop"}
    last = browser.tts[-1]["seq"]
    await browser.send({"event": "ai_playback_interrupted", "seq": last, "played_ms": 40})
    await browser.send_audio(speech[offset + 4800 :] + silence_pcm(600))
    greeting = await browser.expect("transcript", role="interviewer")
    assert greeting["text"] and first["seq"] == 0
    entry = await TranscriptEntry.objects.filter(interview=interview, role="interviewer").afirst()
    await asyncio.sleep(0.2)
    await entry.arefresh_from_db()
    # The stored text is what the candidate heard, ending where playback was cut.
    assert QUESTIONS[0] not in entry.text
    spool_events = None
    for _ in range(20):
        spool = await database_sync_to_async(latest_session)(interview.pk)
        spool_events = [e["name"] for e in spool.events]
        if "barge_in" in spool_events:
            break
        await asyncio.sleep(0.05)
    assert "barge_in" in spool_events and "playback_stop" in spool_events
    cut = [c for c in spool.ai if c.played_ms is not None]
    assert [c.seq for c in cut] == [last] and cut[0].played_ms == 40
