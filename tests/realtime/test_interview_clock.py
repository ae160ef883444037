"""A page reloaded mid-interview goes on with the interview's clock, not a new one.

The page's timestamps after a reload continue from the interview's start (so every
session's audio and every recording segment land on one timeline); the server's bound
on client timestamps must count from the interview's start too, or it would refuse them.
"""

import base64
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from interviews.models import Interview
from realtime import session as session_module

from .helpers import Browser, settle

pytestmark = pytest.mark.django_db(transaction=True)

UNDER_WAY_SECONDS = 100.0


def _under_way(interview: Interview) -> None:
    Interview.objects.filter(pk=interview.pk).update(
        status=Interview.Status.IN_PROGRESS,
        started_at=timezone.now() - dt.timedelta(seconds=UNDER_WAY_SECONDS),
    )


async def _new_session_after_reload(make_interview):
    interview, token = await make_interview()
    await sync_to_async(_under_way)(interview)
    browser = await Browser().connect()
    await browser.start(interview.pk, token, session_id="sess-after-reload")
    await browser.wait_ai_quiet()
    browser.clock = UNDER_WAY_SECONDS  # the page continued the interview's clock
    return interview, browser


async def test_a_new_session_of_an_interview_under_way_takes_the_interview_clock(
    make_interview,
):
    interview, browser = await _new_session_after_reload(make_interview)
    await browser.send({"event": "recording_started", "timestamp": UNDER_WAY_SECONDS, "segment": 1})
    await browser.send_audio(bytes(4800))
    live = session_module.SESSIONS[(interview.pk, "sess-after-reload")]
    await settle(live, browser)
    assert "error" not in browser.events(), browser.messages
    assert live.buffer.recording_started_at == UNDER_WAY_SECONDS
    await browser.close()


async def test_the_bound_still_holds_from_the_interview_start(make_interview):
    _interview, browser = await _new_session_after_reload(make_interview)
    audio = base64.b64encode(bytes(4800)).decode()
    await browser.send(
        {"event": "mic_chunk", "seq": 0, "timestamp": UNDER_WAY_SECONDS + 600, "audio_b64": audio}
    )
    error = await browser.expect("error")
    assert error["code"] == "timestamp_out_of_range", error
    await browser.close()
