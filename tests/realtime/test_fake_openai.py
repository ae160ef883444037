"""The fake Realtime server is as strict as OpenAI's, and every event is held to the SDK's types.

These tests drive the fake with the official SDK's own websocket client, so what they
send is what any code using the SDK sends.
"""

import asyncio

import pytest
from openai import AsyncOpenAI

from . import sdk_events
from .fake_openai import API_KEY, FakeRealtimeServer, tone
from .helpers import silence_pcm

SESSION = {
    "type": "realtime",
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000}},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
    },
}


async def connect(server):
    client = AsyncOpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0)
    return await client.realtime.connect(model="gpt-realtime-1.5").enter()


async def next_event(conn, kind, timeout=5.0):
    async def read():
        while True:
            event = await conn.recv()
            if event.type == kind:
                return event

    return await asyncio.wait_for(read(), timeout)


async def next_error(conn):
    return (await next_event(conn, "error")).error


def test_unknown_fields_and_wrong_shapes_are_refused():
    with pytest.raises(
        sdk_events.EventRejected, match=r"unknown fields: session\.created\.session\.id"
    ):
        sdk_events.check(
            "server",
            {
                "type": "session.created",
                "event_id": "e",
                "session": {"type": "realtime", "id": "s"},
            },
        )
    with pytest.raises(sdk_events.EventRejected, match="not valid"):
        sdk_events.check("client", {"type": "conversation.item.truncate", "item_id": "x"})
    with pytest.raises(sdk_events.EventRejected, match="not valid"):
        sdk_events.check("client", {"type": "no.such.event"})
    sdk_events.check("client", {"type": "response.create"})


async def test_a_client_event_outside_the_sdk_is_an_error_and_fails_the_test():
    async with FakeRealtimeServer() as server:
        conn = await connect(server)
        await conn.send_raw('{"type": "response.create", "surprise": 1}')
        assert (await next_error(conn)).code == "invalid_event"
        assert sdk_events.VIOLATIONS and "surprise" in sdk_events.VIOLATIONS[0]
        sdk_events.VIOLATIONS.clear()  # planted on purpose: the fixture would fail this test
        await conn.close()


async def test_session_update_is_answered_or_refused():
    async with FakeRealtimeServer() as server:
        conn = await connect(server)
        await conn.session.update(session=SESSION)
        updated = await next_event(conn, "session.updated")
        assert updated.session.audio.output.voice == "marin"
        bad = {**SESSION, "audio": {**SESSION["audio"], "output": {**SESSION["audio"]["output"]}}}
        bad["audio"]["output"]["voice"] = "robot"
        await conn.session.update(session=bad)
        error = await next_error(conn)
        assert (error.type, error.code, error.param) == (
            "invalid_request_error",
            "invalid_value",
            "session",
        )
        await conn.close()


async def test_items_are_echoed_responses_are_one_at_a_time_and_cancels_need_a_response():
    async with FakeRealtimeServer(reply_ms=2000) as server:
        conn = await connect(server)
        await conn.session.update(session=SESSION)
        item = {"id": "seed_1", "type": "message", "role": "user"}
        item["content"] = [{"type": "input_text", "text": "Hello"}]
        await conn.conversation.item.create(item=item)
        added = await next_event(conn, "conversation.item.added")
        done = await next_event(conn, "conversation.item.done")
        assert added.item.id == done.item.id == "seed_1"
        await conn.response.cancel()
        assert (await next_error(conn)).code == "response_cancel_not_active"
        await conn.response.create()
        await next_event(conn, "response.created")
        await conn.response.create()
        assert (await next_error(conn)).code == "conversation_already_has_active_response"
        await conn.conversation.item.truncate(item_id="nope", content_index=0, audio_end_ms=10)
        assert (await next_error(conn)).code == "item_not_found"
        await conn.response.cancel()
        done = await next_event(conn, "response.done")
        assert done.response.status == "cancelled" and done.response.usage.output_tokens >= 1
        await conn.close()


async def test_responses_carry_transcripts_usage_and_rate_limits_and_can_fail():
    async with FakeRealtimeServer() as server:
        server.response_statuses.extend(["failed", "incomplete"])
        conn = await connect(server)
        await conn.session.update(session=SESSION)
        for expected in ("failed", "incomplete"):
            await conn.response.create()
            done = await next_event(conn, "response.done")
            assert done.response.status == expected == done.response.status_details.type
            await next_event(conn, "rate_limits.updated")
        await conn.response.create()
        seen = []
        while not seen or seen[-1].type != "rate_limits.updated":
            seen.append(await asyncio.wait_for(conn.recv(), 5))
        kinds = [e.type for e in seen]
        assert "response.output_audio_transcript.delta" in kinds
        done = next(e for e in seen if e.type == "response.output_audio_transcript.done")
        deltas = "".join(
            e.delta for e in seen if e.type == "response.output_audio_transcript.delta"
        )
        assert deltas == done.transcript == "Question number 1?"
        usage = next(e for e in seen if e.type == "response.done").response.usage
        assert (
            usage.output_token_details.audio_tokens > 0 and usage.input_token_details.cached_tokens
        )
        await conn.close()


async def test_transcription_deltas_usage_and_failure():
    async with FakeRealtimeServer() as server:
        server.transcription_results.append("failed")
        conn = await connect(server)
        await conn.session.update(session=SESSION)
        for _ in range(2):
            await conn.input_audio_buffer.append(audio=_b64(tone(500)))
            await conn.input_audio_buffer.append(audio=_b64(silence_pcm(600)))
        failed = await next_event(conn, "conversation.item.input_audio_transcription.failed")
        assert failed.error.code == "audio_unintelligible"
        completed = await next_event(conn, "conversation.item.input_audio_transcription.completed")
        assert completed.transcript == "I built a billing service."
        assert completed.usage.type == "tokens" and completed.usage.input_tokens > 0
        await conn.close()


async def test_final_errors_arrive_after_the_handshake_then_the_socket_closes():
    async with FakeRealtimeServer() as server:
        server.final_error = "insufficient_quota"
        conn = await connect(server)
        assert (await next_error(conn)).code == "insufficient_quota"
        with pytest.raises(Exception, match="1008"):
            await asyncio.wait_for(conn.recv(), 5)


async def test_sessions_expire_at_the_cap():
    async with FakeRealtimeServer(session_cap_seconds=0.3) as server:
        conn = await connect(server)
        assert (await next_error(conn)).code == "session_expired"
        with pytest.raises(Exception, match="1000"):
            await asyncio.wait_for(conn.recv(), 5)


def _b64(pcm: bytes) -> str:
    import base64

    return base64.b64encode(pcm).decode()
