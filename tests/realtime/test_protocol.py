"""The wire protocol's parsing of ``recording_started`` and its recording segment."""

import pytest
from channels.db import database_sync_to_async

from media_export.recording import MAX_SEGMENT
from media_export.stored_spool import latest_session
from realtime import session as session_module
from realtime.protocol import ProtocolError, RecordingStarted, parse_message

from .helpers import Browser, settle, silence_pcm


def recording_started(**fields):
    return parse_message({"event": "recording_started", "timestamp": 1.5, **fields})


def test_recording_started_without_a_segment_keeps_its_old_form():
    assert recording_started() == RecordingStarted(1.5, None)


@pytest.mark.parametrize("segment", [0, 7, MAX_SEGMENT])
def test_recording_started_carries_its_segment(segment):
    assert recording_started(segment=segment) == RecordingStarted(1.5, segment)


@pytest.mark.parametrize("segment", [True, False, 1.0, 2.5, -1, MAX_SEGMENT + 1, "3", None, [1]])
def test_a_bad_segment_is_an_invalid_field_naming_it(segment):
    with pytest.raises(ProtocolError) as raised:
        recording_started(segment=segment)
    assert raised.value.code == "invalid_field"
    assert "'segment'" in raised.value.message


def test_the_timestamp_is_checked_before_the_segment():
    with pytest.raises(ProtocolError) as raised:
        recording_started(timestamp=-1, segment=2)
    assert raised.value.code == "invalid_timestamp"


@pytest.mark.django_db(transaction=True)
async def test_the_segment_reaches_the_spool(make_interview):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.send({"event": "recording_started", "timestamp": 0.2, "segment": 3})
    await browser.send_audio(silence_pcm(100))
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(live, browser)
    await browser.close()
    spool = await database_sync_to_async(latest_session)(interview.pk)
    assert spool.recording_started == 0.2 and spool.recording_segment == 3
