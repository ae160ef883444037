"""A long OpenAI interview: the session recycled before its cap, usage summed, captions sent."""

import asyncio

import pytest

from interviews.models import TranscriptEntry

from .fake_openai import FakeRealtimeServer
from .helpers import Browser
from .test_openai_failures import answer, errors, use_openai

pytestmark = pytest.mark.django_db(transaction=True)


async def started(make_interview, server, settings, **options):
    use_openai(settings, server, **options)
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    return interview, browser


async def test_the_session_is_recycled_before_the_cap_without_the_candidate_noticing(
    make_interview, settings
):
    # The test browser's clock runs several times faster than the wall clock (it sends
    # audio as fast as the server takes it), and this test keeps it talking for seconds
    # of wall time: a faster machine fits more answers in and its timestamps would pass
    # the server's bound of elapsed time plus slack.
    settings.CLIENT_CLOCK_SLACK_SECONDS = 600.0
    async with FakeRealtimeServer(session_cap_seconds=4.0) as server:
        interview, browser = await started(
            make_interview, server, settings, recycle_after_seconds=1.0
        )
        loop = asyncio.get_running_loop()
        until = loop.time() + 7.0  # well past the cap of the first upstream session
        while loop.time() < until:
            await answer(browser)
        assert len(server.connections) >= 2
        expired = [
            e
            for conn in server.connections
            for e in conn.sent
            if e["type"] == "error" and e["error"]["code"] == "session_expired"
        ]
        assert expired == []
        assert errors(browser) == []
        for conn in server.connections[:-1]:  # each left between replies
            assert not [e for e in conn.sent if e["type"] == "response.created"][
                len([e for e in conn.sent if e["type"] == "response.done"]) :
            ]
        texts = [
            (e.role, e.text)
            async for e in TranscriptEntry.objects.filter(interview=interview).order_by("id")
        ]
        questions = [t for r, t in texts if r == "interviewer"]
        assert questions == [f"Question number {n}?" for n in range(1, len(questions) + 1)]
        roles = [r for r, _t in texts]
        assert roles == ["interviewer", "candidate"] * (len(roles) // 2) + ["interviewer"]
        await browser.close()


async def test_usage_of_replies_and_transcriptions_is_summed_on_the_interview(
    make_interview, settings
):
    async with FakeRealtimeServer() as server:
        interview, browser = await started(make_interview, server, settings)
        await answer(browser)
        await browser.close()
        sent = [e for conn in server.connections for e in conn.sent]
        replies = [e["response"]["usage"] for e in sent if e["type"] == "response.done"]
        heard = [
            e["usage"]
            for e in sent
            if e["type"] == "conversation.item.input_audio_transcription.completed"
        ]
        await interview.arefresh_from_db()
        got = interview.usage
        assert got["responses"] == len(replies) == 2 and got["transcriptions"] == len(heard) == 1
        assert got["audio_output_tokens"] == sum(
            u["output_token_details"]["audio_tokens"] for u in replies
        )
        assert got["cached_text_input_tokens"] == sum(
            u["input_token_details"]["cached_tokens_details"]["text_tokens"] for u in replies
        )
        assert got["transcription_input_tokens"] == heard[0]["input_tokens"] > 0


async def test_captions_follow_the_words_as_they_are_spoken_and_heard(make_interview, settings):
    async with FakeRealtimeServer() as server:
        _interview, browser = await started(make_interview, server, settings)
        await answer(browser)
        await browser.close()

        def said(role):
            return "".join(
                m["delta"]
                for m in browser.messages
                if m["event"] == "caption" and m["role"] == role
            )

        assert said("interviewer") == "Question number 1?Question number 2?"
        assert said("candidate") == "I built a billing service."
        first_caption = browser.events().index("caption")
        assert first_caption < browser.events().index("transcript")  # before the final line
