"""How the live session copes with what OpenAI's real server does, on the strict fake."""

import asyncio

import pytest

from interviews.models import Interview, TranscriptEntry
from realtime import session as session_module

from .fake_openai import API_KEY, FakeRealtimeServer, tone
from .helpers import Browser, catch_up, silence_pcm

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTED = {"I built a billing service.", "I test with pytest."}


def use_openai(settings, server, **options):
    settings.REALTIME_PROVIDER = "openai"
    settings.REALTIME_PROVIDER_OPTIONS = {
        "openai": {
            "api_key": API_KEY,
            "base_url": server.base_url,
            "initial_backoff": 0.05,
            "max_backoff": 0.1,
            **options,
        }
    }


async def answer(browser: Browser):
    """The candidate answers: a loud second, then enough silence to end the turn."""
    await catch_up(browser)
    await browser.send_audio(tone(800) + silence_pcm(700))
    await browser.expect("transcript", role="candidate")
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()


async def entries(interview):
    return [
        (e.role, e.text, e.flag)
        async for e in TranscriptEntry.objects.filter(interview=interview).order_by("id")
    ]


async def wait_until(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def errors(browser: Browser) -> list[dict]:
    return [m for m in browser.messages if m.get("event") == "error"]


async def test_three_upstream_drops_leave_no_duplicates_and_no_invented_words(
    make_interview, settings
):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        await answer(browser)
        for drop in range(3):
            server.drop()
            await wait_until(lambda n=drop: len(server.connections) == n + 2)
            await server.wait_for(
                lambda e: e["type"] == "session.update", connection=server.latest()
            )
            await asyncio.sleep(0.3)  # the echoes of the re-seeded history arrive
        await answer(browser)
        stored = await entries(interview)
        texts = [(role, text) for role, text, _flag in stored]
        assert len(texts) == len(set(texts)), stored
        assert {t for role, t in texts if role == "candidate"} <= SCRIPTED, stored
        assert [r for r, _t in texts] == ["interviewer", "candidate"] * 2 + ["interviewer"]
        # Every re-seed is the real conversation, once.
        for conn in server.connections[1:]:
            seeded = [e["item"] for e in conn.received if e["type"] == "conversation.item.create"]
            assert [i["content"][0]["text"] for i in seeded] == [t for _r, t in texts[:3]]
        await browser.close()


async def test_quota_error_after_a_good_handshake_ends_the_interview_as_failed(
    make_interview, settings, mixing_requests
):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        server.final_error = "insufficient_quota"
        server.drop()
        await browser.expect("session_ended", timeout=10)
        await asyncio.sleep(0.5)  # nothing more happens: no further connections
        assert len(server.connections) <= 5
        notices = errors(browser)
        assert [n["code"] for n in notices] == ["interviewer_unavailable"], notices
        assert "quota" not in notices[0]["message"].lower()
        await interview.arefresh_from_db()
        assert interview.status == Interview.Status.FAILED
        assert interview.end_reason == Interview.EndReason.PROVIDER_FAILED
        assert "quota" in interview.failure_reason.lower()
        assert mixing_requests == [(interview.pk, "sess-1")]  # what was recorded is kept


async def test_an_invalid_key_at_the_start_fails_the_interview_with_a_plain_notice(
    make_interview, settings
):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        server.final_error = "invalid_api_key"
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.send(
            {"event": "start", "session_id": "s", "interview_id": interview.pk, "token": token}
        )
        notice = await browser.expect("error")
        assert notice["code"] == "interviewer_unavailable"
        assert "API key" not in notice["message"]
        assert len(server.connections) == 1
        await interview.arefresh_from_db()
        assert interview.status == Interview.Status.FAILED
        assert "key" in interview.failure_reason.lower()


async def test_benign_and_raw_upstream_errors_never_reach_the_candidate(make_interview, settings):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        live = session_module.SESSIONS[(interview.pk, "sess-1")]
        await live.provider.cancel_response()  # nothing to cancel: not even sent
        await live.provider.truncate("item_gone", 100)  # not of this upstream session: not sent
        for code in (
            "response_cancel_not_active",
            "item_not_found",
            "conversation_already_has_active_response",
            "server_error",
        ):
            await server.send(
                {"type": "error", "error": {"type": "server_error", "code": code, "message": "x"}}
            )
        await asyncio.sleep(0.3)
        await browser.drain()
        assert errors(browser) == []
        sent = {e["type"] for e in server.latest().received}
        assert not sent & {"response.cancel", "conversation.item.truncate"}
        await browser.close()


async def test_session_update_refused_fails_the_start_and_no_response_runs_unconfigured(
    make_interview, settings
):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server, voice="robot")
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.send(
            {"event": "start", "session_id": "s", "interview_id": interview.pk, "token": token}
        )
        notice = await browser.expect("error")
        assert notice["code"] == "interviewer_unavailable"
        assert server.latest().unconfigured_responses == 0
        await interview.arefresh_from_db()
        assert interview.status == Interview.Status.FAILED
        assert "robot" in interview.failure_reason


async def test_a_failed_transcription_keeps_the_turn_and_its_place_in_the_reseed(
    make_interview, settings
):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        server.transcription_results.append("failed")
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        await answer(browser)
        assert ("candidate", "[inaudible]", "inaudible") in await entries(interview)
        server.drop()
        await wait_until(lambda: len(server.connections) == 2)
        seeded = await server.wait_for(
            lambda e: e["type"] == "conversation.item.create" and e["item"]["role"] == "user",
            connection=server.latest(),
        )
        assert seeded["item"]["content"][0]["text"] == "[inaudible]"
        await browser.close()


async def test_a_failed_response_is_retried_once_then_a_polite_notice(make_interview, settings):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        server.response_statuses.extend(["failed"])
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        first = await browser.expect("transcript", role="interviewer")
        assert first["text"] == "Question number 1?"  # the retry spoke
        creates = [e for e in server.latest().received if e["type"] == "response.create"]
        assert len(creates) == 2
        await browser.wait_ai_quiet()
        server.response_statuses.extend(["incomplete"])
        await catch_up(browser)
        await browser.send_audio(tone(800) + silence_pcm(700))
        notice = await browser.expect("error")
        assert notice["code"] == "interviewer_repeat"
        await browser.close()


async def test_the_resume_prompt_is_an_instruction_not_the_candidates_words(
    make_interview, settings
):
    async with FakeRealtimeServer(reply_ms=3000) as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("tts_chunk")
        await browser.expect("tts_chunk")
        await browser.close()  # mid-reply
        again = await Browser().connect()
        again.clock = browser.clock
        await again.start(interview.pk, token)
        resume = await server.wait_for(
            lambda e: e["type"] == "response.create" and e.get("response", {}).get("instructions")
        )
        assert "connection dropped" in resume["response"]["instructions"]
        user_items = [
            e
            for e in server.latest().received
            if e["type"] == "conversation.item.create" and e["item"]["role"] == "user"
        ]
        assert user_items == []
        await asyncio.sleep(0.5)
        assert not [
            e
            for e in server.latest().sent
            if e["type"] == "error"
            and e["error"]["code"] == "conversation_already_has_active_response"
        ]
        await again.close()


async def test_an_interrupted_reply_keeps_only_the_words_heard(make_interview, settings):
    async with FakeRealtimeServer(reply_ms=2000) as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.wait_ai_quiet()
        await server.wait_for(lambda e: False, timeout=0.01) if False else None
        # The candidate heard the first of the reply's four words only.
        seq = browser.tts[4]["seq"]  # 500 ms of 2000 ms
        await browser.send({"event": "ai_playback_interrupted", "seq": seq, "played_ms": 0})
        await server.wait_for(lambda e: e["type"] == "conversation.item.truncate")
        await wait_until(
            lambda: any(e["type"] == "conversation.item.truncated" for e in server.latest().sent)
        )
        await asyncio.sleep(0.2)
        stored = await entries(interview)
        assert stored == [("interviewer", "Question", "interrupted")], stored
        await browser.close()


async def test_candidate_start_times_do_not_include_the_prefix_padding(make_interview, settings):
    async with FakeRealtimeServer() as server:
        use_openai(settings, server)
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        await catch_up(browser)
        spoke_at = browser.clock
        await browser.send_audio(tone(800) + silence_pcm(700))
        await browser.expect("transcript", role="candidate")
        entry = await TranscriptEntry.objects.aget(interview=interview, role="candidate")
        assert entry.start_seconds == pytest.approx(spoke_at, abs=0.11)
        await browser.close()
