"""Reconnects: resume within SESSION_RESUME_SECONDS, expiry, takeover, and re-seeding."""

import asyncio
import os

import pytest
from channels.db import database_sync_to_async

from interviews.models import Interview, TranscriptEntry
from media_export.models import SpoolSegment
from media_export.stored_spool import latest_session
from realtime import session as session_module
from realtime import takeover

from .helpers import Browser, catch_up, settle, silence_pcm, speech_pcm

pytestmark = pytest.mark.django_db(transaction=True)


async def started(interview, token, session_id="sess-1"):
    browser = await Browser().connect()
    ready = await browser.start(interview.pk, token, session_id=session_id)
    return browser, ready


async def test_resume_within_window_keeps_provider_and_seqs(make_interview, mixing_requests):
    interview, token = await make_interview()
    browser, _ = await started(interview, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    await browser.send_audio(silence_pcm(500))
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(live, browser)
    provider = live.provider
    ai_seqs = [m["seq"] for m in browser.tts]
    await browser.close()
    await asyncio.sleep(0.05)
    assert live.state == "detached"

    again = await Browser().connect()
    again.seq, again.clock, again.play_at = browser.seq, browser.clock, browser.play_at
    ready = await again.start(interview.pk, token)
    assert ready["resume_from_seq"] == 5
    assert session_module.SESSIONS[(interview.pk, "sess-1")] is live and live.provider is provider
    # Resending what the server already has changes nothing; new chunks continue.
    again.seq = 3
    again.clock = 0.3
    await again.send_audio(silence_pcm(400))
    await settle(live, again)
    assert live.buffer.resume_from_seq == 7 and live.buffer.mic_chunks == 7
    await catch_up(again)
    await again.send_audio(speech_pcm() + silence_pcm(700))
    await again.expect("transcript", role="candidate")
    await again.expect("tts_chunk")
    assert again.tts[0]["seq"] == ai_seqs[-1] + 1  # ai_seq continues across the reconnect
    await again.send({"event": "end"})
    await again.expect("session_ended")
    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.COMPLETED
    assert mixing_requests == [(interview.pk, "sess-1")]
    await again.close()
    assert mixing_requests == [(interview.pk, "sess-1")]  # exactly once
    # Local media storage already holds the spool folder: nothing is shipped twice.
    assert not await SpoolSegment.objects.aexists()


async def test_resume_window_passes_then_session_ends(make_interview, settings, mixing_requests):
    settings.SESSION_RESUME_SECONDS = 0.3
    interview, token = await make_interview()
    browser, _ = await started(interview, token)
    await browser.expect("transcript", role="interviewer")
    await browser.close()
    await asyncio.sleep(0.2)
    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.IN_PROGRESS and mixing_requests == []
    await asyncio.sleep(0.4)
    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.COMPLETED
    assert mixing_requests == [(interview.pk, "sess-1")]
    assert session_module.SESSIONS == {}
    late = await Browser().connect()
    await late.send(
        {"event": "start", "session_id": "sess-1", "interview_id": interview.pk, "token": token}
    )
    assert (await late.expect("error"))["code"] == "interview_finished"


async def speaking_at_real_pace(make_interview, settings, chunks: int):
    """A session whose interviewer speaks at real pace, ``chunks`` AI chunks into its greeting."""
    from realtime.providers.local import LocalTiming

    settings.REALTIME_PROVIDER_OPTIONS["local"] = {
        **settings.REALTIME_PROVIDER_OPTIONS["local"],
        "timing": LocalTiming(speed=1.0),
    }
    interview, token = await make_interview()
    browser, _ = await started(interview, token)
    for _ in range(chunks):
        await browser.expect("tts_chunk")
    return interview, token, browser, session_module.SESSIONS[(interview.pk, "sess-1")]


async def test_drop_mid_reply_cuts_it_and_asks_again(make_interview, settings):
    interview, token, browser, live = await speaking_at_real_pace(make_interview, settings, 4)
    live.clock.observe(browser.play_at - 0.2)  # the client is mid-way through the greeting
    await browser.close()
    for _ in range(50):
        if any(c.cut_ms is not None for c in live.buffer._ai.values()):
            break
        await asyncio.sleep(0.02)
    assert any(c.cut_ms is not None for c in live.buffer._ai.values())
    again = await Browser().connect()
    await again.start(interview.pk, token)
    said = await again.expect("transcript", role="interviewer", timeout=15)
    assert said["text"].startswith("Sorry, we lost the connection")


async def test_a_leaving_page_says_where_playback_stood_and_the_cut_is_there(
    make_interview, settings
):
    """The server's estimate of the page's clock trails the page (chunks in flight); the
    page's own report, sent as it goes away, decides where the reply was cut."""
    interview, token, browser, live = await speaking_at_real_pace(make_interview, settings, 6)
    heard = browser.tts[4]  # the page was 30 ms into chunk 4 when it went away
    live.clock.observe(browser.play_at - 1.0)  # the server's estimate trails by far more
    await browser.send(
        {"event": "ai_playback_interrupted", "seq": heard["seq"], "played_ms": 30, "leaving": True}
    )
    await browser.close()
    for _ in range(100):
        if live.state == "detached" and live.provider.alive:
            break
        await asyncio.sleep(0.02)
    chunks = live.buffer._ai
    assert [c.seq for c in chunks.values() if c.cut_ms is not None] == [heard["seq"]]
    assert chunks[heard["seq"]].cut_ms == 30.0
    await asyncio.to_thread(live.buffer.spool.sync)
    spool = await database_sync_to_async(latest_session)(interview.pk)
    names = [e["name"] for e in spool.events if e["name"] in ("barge_in", "page_left")]
    assert names == ["page_left"]  # not a barge-in: nobody spoke
    assert [(c.seq, c.played_ms) for c in spool.ai if c.played_ms is not None] == [
        (heard["seq"], 30.0)
    ]
    again = await Browser().connect()
    await again.start(interview.pk, token)
    said = await again.expect("transcript", role="interviewer", timeout=15)
    assert said["text"].startswith("Sorry, we lost the connection")


async def test_leaving_must_be_a_bool(make_interview):
    interview, token = await make_interview()
    browser, _ = await started(interview, token)
    await browser.expect("tts_chunk")
    await browser.send(
        {"event": "ai_playback_interrupted", "seq": 0, "played_ms": 1, "leaving": "yes"}
    )
    error = await browser.expect("error")
    assert error["code"] == "invalid_field" and "leaving" in error["message"]


async def test_same_session_on_a_new_socket_supersedes_the_old_one(make_interview):
    interview, token = await make_interview()
    first, _ = await started(interview, token)
    _second, ready = await started(interview, token)
    error = await first.expect("error")
    assert error["code"] == "superseded"
    assert await first.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4000}
    assert ready["event"] == "session_ready"
    assert session_module.SESSIONS[(interview.pk, "sess-1")].peer is not None


async def test_new_session_id_takes_over_and_is_seeded_with_the_transcript(
    make_interview, mixing_requests
):
    interview, token = await make_interview()
    first, _ = await started(interview, token, "tab-1")
    await first.expect("transcript", role="interviewer")
    await first.wait_ai_quiet()
    await catch_up(first)
    await first.send_audio(speech_pcm() + silence_pcm(700))
    await first.expect("transcript", role="candidate")
    await first.expect("transcript", role="interviewer")
    old = session_module.SESSIONS[(interview.pk, "tab-1")]

    second, ready = await started(interview, token, "tab-2")
    assert ready["resume_from_seq"] == 0
    assert (await first.expect("error"))["code"] == "superseded"
    said = await second.expect("transcript", role="interviewer")
    assert said["text"].startswith("Welcome back")
    assert old.state == "handed_off" and (interview.pk, "tab-1") not in session_module.SESSIONS
    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.IN_PROGRESS and mixing_requests == []
    assert await TranscriptEntry.objects.filter(interview=interview).acount() >= 3


async def test_restart_restores_counters_from_the_spool(make_interview):
    """A resume the process does not hold (another daphne, or a restart) rebuilds from disk."""
    interview, token = await make_interview()
    browser, _ = await started(interview, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    await browser.send_audio(silence_pcm(300))
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(live, browser)
    next_ai = live.buffer.next_ai_seq
    await live.hand_off()  # as if the process died: nothing ended, the spool stays
    again = await Browser().connect()
    ready = await again.start(interview.pk, token)
    assert ready["resume_from_seq"] == 3
    first = await again.expect("tts_chunk")
    assert first["seq"] == next_ai


@pytest.mark.redis
async def test_takeover_through_the_redis_channel_layer(make_interview, settings):
    from channels.layers import channel_layers

    from interviewsite.settings import redis_channel_layer

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    # The same layer configuration the settings build for REDIS_URL.
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(url)}
    channel_layers.backends.clear()
    layer = channel_layers["default"]
    try:
        await layer.flush()
    except Exception as exc:  # pragma: no cover - environment without Redis
        pytest.fail(f"Redis is required for this test: {exc}")
    interview, token = await make_interview()
    first, _ = await started(interview, token, "tab-a")
    old = session_module.SESSIONS[(interview.pk, "tab-a")]
    # Pretend tab-a lives in another process: drop it from this process's registry.
    session_module.SESSIONS.pop((interview.pk, "tab-a"))
    second, ready = await started(interview, token, "tab-b")
    assert (await first.expect("error", timeout=5))["code"] == "superseded"
    assert await first.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4000}
    assert old.state == "handed_off"
    assert ready["event"] == "session_ready"
    await second.close()
    await layer.flush()


async def test_resume_in_another_process_waits_for_the_spool_release(
    make_interview, mixing_requests
):
    interview, token = await make_interview()
    first, _ = await started(interview, token)
    await first.expect("transcript", role="interviewer")
    await first.wait_ai_quiet()
    await first.send_audio(silence_pcm(400))
    old = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(old, first)
    next_ai = old.buffer.next_ai_seq
    # The same session_id arrives at "another process": this registry does not hold it.
    session_module.SESSIONS.pop((interview.pk, "sess-1"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    second, ready = await started(interview, token)
    assert loop.time() - began < takeover.RELEASE_WAIT_SECONDS  # released, not timed out
    assert (await first.expect("error"))["code"] == "superseded"
    assert old.state == "handed_off" and old.buffer.spool.closed
    assert ready["resume_from_seq"] == 4
    assert (await second.expect("tts_chunk"))["seq"] == next_ai
    said = await second.expect("transcript", role="interviewer")
    assert said["text"].startswith("Welcome back")
    assert mixing_requests == []
