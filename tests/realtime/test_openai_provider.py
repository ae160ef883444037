"""The OpenAI provider with the real SDK client against the loopback fake Realtime server."""

import asyncio
import logging

import pytest

from interviews.models import TranscriptEntry
from realtime.providers.base import HistoryEntry, SessionSeed
from realtime.providers.openai_provider import OpenAIRealtimeProvider

from .fake_openai import API_KEY, FakeRealtimeServer, tone
from .helpers import Browser, catch_up, silence_pcm

SEED = SessionSeed(
    instructions="Be brief.",
    questions=["Q one?", "Q two?"],
    candidate_name="Ada",
    job_title="Engineer",
)


async def collect(provider, until, timeout=5.0):
    events = []

    async def run():
        async for event in provider.events():
            events.append(event)
            if until(event):
                return

    await asyncio.wait_for(run(), timeout)
    return events


def make_provider(server, **kw):
    return OpenAIRealtimeProvider(
        api_key=API_KEY,
        model="gpt-realtime",
        base_url=server.base_url,
        initial_backoff=0.05,
        max_backoff=0.1,
        **kw,
    )


async def test_session_update_audio_in_and_events_out():
    async with FakeRealtimeServer() as server:
        provider = make_provider(server)
        await provider.start(SEED)
        conn = server.latest()
        assert conn.path.startswith("/v1/realtime?") and "model=gpt-realtime" in conn.path
        assert conn.headers["authorization"] == f"Bearer {API_KEY}"
        update = await server.wait_for(lambda e: e["type"] == "session.update")
        session = update["session"]
        assert session["type"] == "realtime"
        assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
        assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
        turns = session["audio"]["input"]["turn_detection"]
        assert (turns["type"], turns["eagerness"]) == ("semantic_vad", "low")
        assert session["audio"]["input"]["transcription"]["model"]
        assert "Q one?" in session["instructions"] and "Be brief." in session["instructions"]
        assert session["tools"][0]["name"] == "end_interview"
        await server.wait_for(lambda e: e["type"] == "response.create")  # greet first
        greeting = await collect(provider, lambda e: e["type"] == "response.done")
        assert any(e["type"] == "response.output_audio.delta" for e in greeting)

        for offset in range(0, 48000, 4800):
            await provider.append_audio(tone(1000)[offset : offset + 4800])
        for _ in range(8):
            await provider.append_audio(silence_pcm(100))
        events = await collect(
            provider, lambda e: e["type"] == "conversation.item.input_audio_transcription.completed"
        )
        kinds = [e["type"] for e in events]
        assert (
            "input_audio_buffer.speech_started" in kinds
            and "input_audio_buffer.speech_stopped" in kinds
        )
        assert "response.output_audio.delta" in kinds
        appended = [e for e in conn.received if e["type"] == "input_audio_buffer.append"]
        assert len(appended) == 18
        stopped = next(e for e in events if e["type"] == "input_audio_buffer.speech_stopped")
        assert stopped["audio_end_ms"] == 1500
        await provider.close()


async def test_error_event_passes_through_and_is_logged(caplog):
    async with FakeRealtimeServer() as server:
        provider = make_provider(server)
        await provider.start(SEED)
        await collect(provider, lambda e: e["type"] == "response.done")
        with caplog.at_level(logging.WARNING, logger="realtime.providers.openai"):
            await server.send(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit_exceeded",
                        "message": "Slow down",
                    },
                }
            )
            events = await collect(provider, lambda e: e["type"] == "error")
        assert events[-1]["error"]["code"] == "rate_limit_exceeded"
        assert "OpenAI Realtime error rate_limit_exceeded" in caplog.text
        # An item this upstream session never produced is not truncated at all.
        await provider.truncate("item_unknown", 10)
        await provider.cancel_response()  # and no reply runs: nothing to cancel
        await asyncio.sleep(0.2)
        sent = {e["type"] for e in server.latest().received}
        assert not sent & {"conversation.item.truncate", "response.cancel"}
        await provider.close()


async def test_dropped_connection_reconnects_and_reseeds():
    history = [HistoryEntry("interviewer", "Q one?"), HistoryEntry("candidate", "I built things.")]

    async def loader():
        return history

    async with FakeRealtimeServer() as server:
        provider = make_provider(server, history_loader=loader)
        await provider.start(SEED)
        await collect(provider, lambda e: e["type"] == "response.done")
        await provider.append_audio(tone(300))  # 300 ms of input before the drop
        await server.wait_for(lambda e: e["type"] == "input_audio_buffer.append")
        server.drop()
        events = await collect(provider, lambda e: e["type"] == "provider.reconnected")
        kinds = [e["type"] for e in events]
        assert kinds.index("provider.disconnected") < kinds.index("provider.reconnected")
        assert len(server.connections) == 2
        second = server.connections[1]
        await asyncio.sleep(0.1)
        kinds = [e["type"] for e in second.received]
        assert kinds[0] == "session.update"
        assert "without greeting again" in second.received[0]["session"]["instructions"]
        created = [e["item"] for e in second.received if e["type"] == "conversation.item.create"]
        assert [(i["role"], i["content"][0]["text"]) for i in created] == [
            ("assistant", "Q one?"),
            ("user", "I built things."),
        ]
        assert created[0]["content"][0]["type"] == "output_text"
        assert "response.create" in kinds  # the candidate spoke last: the interviewer carries on
        # Input audio keeps one clock across the reconnect; starts exclude the prefix padding.
        await provider.append_audio(silence_pcm(500))
        await provider.append_audio(tone(500))
        for _ in range(7):
            await provider.append_audio(silence_pcm(100))
        started = await collect(
            provider, lambda e: e["type"] == "input_audio_buffer.speech_started"
        )
        assert started[-1]["audio_start_ms"] == 800
        await provider.close()


async def test_gives_up_after_limited_reconnects(caplog):
    async with FakeRealtimeServer() as server:
        provider = make_provider(server, reconnect_budget=2)
        await provider.start(SEED)
        await collect(provider, lambda e: e["type"] == "response.done")
        server.refuse = True
        server.drop()
        with caplog.at_level(logging.WARNING, logger="realtime.providers.openai"):
            events = await collect(provider, lambda e: e["type"] == "provider.failed")
        assert [e["type"] for e in events if e["type"].startswith("provider.")] == [
            "provider.disconnected",
            "provider.failed",
        ]
        assert "reconnect attempt 2/2 failed" in caplog.text
        assert not provider.alive
        await provider.close()


async def test_start_fails_clearly_with_a_bad_key():
    async with FakeRealtimeServer() as server:
        provider = OpenAIRealtimeProvider(api_key="wrong", base_url=server.base_url)
        with pytest.raises(Exception, match="401"):
            await provider.start(SEED)


@pytest.mark.django_db(transaction=True)
async def test_consumer_with_openai_provider(make_interview, settings, mixing_requests):
    async with FakeRealtimeServer(end_after_turns=1) as server:
        settings.REALTIME_PROVIDER = "openai"
        settings.REALTIME_PROVIDER_OPTIONS = {
            "openai": {"api_key": API_KEY, "base_url": server.base_url, "initial_backoff": 0.05}
        }
        interview, token = await make_interview()
        browser = await Browser().connect()
        await browser.start(interview.pk, token)
        first = await browser.expect("transcript", role="interviewer")
        assert first["text"] == "Question number 1?"
        await browser.wait_ai_quiet()

        # Barge in on nothing: an interrupted report past the chunk's end is clamped.
        last = browser.tts[-1]["seq"]
        await browser.send({"event": "ai_playback_interrupted", "seq": last, "played_ms": 5000})
        truncate = await server.wait_for(lambda e: e["type"] == "conversation.item.truncate")
        assert truncate["audio_end_ms"] == 600 and truncate["content_index"] == 0

        # An upstream error is logged, never shown to the candidate as it is.
        await server.send(
            {"type": "error", "error": {"type": "server_error", "code": "boom", "message": "Oops"}}
        )

        await catch_up(browser)
        await browser.send_audio(tone(800) + silence_pcm(700))
        candidate = await browser.expect("transcript", role="candidate")
        assert candidate["text"] == "I built a billing service."
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        await catch_up(browser, extra_ms=500)
        await browser.expect("session_ended", timeout=10)
        entries = [
            (e.role, e.text) async for e in TranscriptEntry.objects.filter(interview=interview)
        ]
        assert entries == [
            ("interviewer", "Question number 1?"),
            ("candidate", "I built a billing service."),
            ("interviewer", "Thank you, goodbye."),
        ]
        assert mixing_requests == [(interview.pk, "sess-1")]
        assert "error" not in browser.events()
