"""Every kind of bad input gets a stable error code, keeps the connection and changes nothing."""

import base64
import json

import pytest

from interviews.models import Interview
from realtime import session as session_module

from .helpers import Browser, settle, silence_pcm

pytestmark = pytest.mark.django_db(transaction=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def mic(seq=5, timestamp=0.5, audio=None, **extra):
    audio = b64(bytes(4800)) if audio is None else audio
    message = {"event": "mic_chunk", "seq": seq, "timestamp": timestamp, "audio_b64": audio}
    message.update(extra)
    return json.dumps(message)


BAD_FRAMES = [
    ("{not json", "bad_json"),
    ("[1, 2, 3]", "invalid_message"),
    (json.dumps({"event": "dance"}), "unknown_event"),
    (json.dumps({"seq": 1}), "missing_field"),
    (
        json.dumps({"event": "mic_chunk", "timestamp": 0.1, "audio_b64": b64(bytes(4800))}),
        "missing_field",
    ),
    (json.dumps({"event": "mic_chunk", "seq": 5, "audio_b64": b64(bytes(4800))}), "missing_field"),
    (json.dumps({"event": "mic_chunk", "seq": 5, "timestamp": 0.5}), "missing_field"),
    (mic(seq="5"), "invalid_field"),
    (mic(seq=-1), "invalid_field"),
    (mic(seq=True), "invalid_field"),
    (mic(timestamp="soon"), "invalid_field"),
    (mic(audio=12345), "invalid_field"),
    (mic(audio="!!not base64!!"), "invalid_base64"),
    (mic(audio=b64(bytes(4801))), "odd_byte_count"),
    (mic(audio=""), "empty_audio"),
    (mic(audio=b64(bytes(48002))), "chunk_too_long"),
    (mic(timestamp=-0.1), "invalid_timestamp"),
    (
        '{"event": "mic_chunk", "seq": 5, "timestamp": NaN, "audio_b64": "AAAA"}',
        "invalid_timestamp",
    ),
    (
        '{"event": "mic_chunk", "seq": 5, "timestamp": Infinity, "audio_b64": "AAAA"}',
        "invalid_timestamp",
    ),
    (json.dumps({"event": "ai_chunk_played", "seq": 999999, "timestamp": 1.0}), "unknown_seq"),
    (json.dumps({"event": "ai_chunk_played", "seq": 0, "timestamp": -3}), "invalid_timestamp"),
    (
        json.dumps({"event": "ai_playback_interrupted", "seq": 999999, "played_ms": 10}),
        "unknown_seq",
    ),
    (json.dumps({"event": "ai_playback_interrupted", "seq": 0, "played_ms": -5}), "invalid_field"),
    (json.dumps({"event": "recording_started", "timestamp": "now"}), "invalid_field"),
    (
        json.dumps({"event": "recording_started", "timestamp": 0.1, "segment": True}),
        "invalid_field",
    ),
    (
        json.dumps({"event": "recording_started", "timestamp": 0.1, "segment": 10000}),
        "invalid_field",
    ),
    # Bounded inputs: nothing can be stamped later than the session has run (plus slack).
    (mic(timestamp=7200), "timestamp_out_of_range"),
    (json.dumps({"event": "recording_started", "timestamp": 1e12}), "timestamp_out_of_range"),
    (
        json.dumps({"event": "ai_chunk_played", "seq": 0, "timestamp": 7200}),
        "timestamp_out_of_range",
    ),
    # A seq far ahead is refused and does not move the de-duplication window (the
    # test below checks the next real chunk is still taken).
    (mic(seq=10**30), "seq_out_of_window"),
    (mic(seq=2000), "seq_out_of_window"),
    (json.dumps({"event": {"name": "mic_chunk"}}), "bad_event"),
    (json.dumps({"event": ["end"]}), "bad_event"),
    (json.dumps({"event": 7}), "bad_event"),
    (
        json.dumps({"event": "start", "session_id": "x", "interview_id": 1, "token": "t"}),
        "already_started",
    ),
]


def snapshot(live):
    directory = live.buffer.spool.directory
    return {
        "resume_from_seq": live.buffer.resume_from_seq,
        "mic_chunks": live.buffer.mic_chunks,
        "ai_chunks": live.buffer.ai_chunks,
        "next_ai_seq": live.buffer.next_ai_seq,
        "mic_bytes": (directory / "mic.pcm").stat().st_size,
        "ai_bytes": (directory / "ai.pcm").stat().st_size,
        "index_lines": (directory / "index.jsonl").read_text().count("\n"),
    }


@pytest.mark.parametrize(
    ("frame", "code"), BAD_FRAMES, ids=[code + str(i) for i, (_f, code) in enumerate(BAD_FRAMES)]
)
async def test_bad_frame_after_start(make_interview, frame, code):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.expect("transcript", role="interviewer")
    await browser.wait_ai_quiet()
    await browser.send_audio(silence_pcm(500))
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(live, browser)
    before = snapshot(live)

    await browser.send_raw(text=frame)
    error = await browser.expect("error")
    assert error["code"] == code and error["message"]
    assert snapshot(live) == before

    # Still open, and the session goes on: the next valid chunk is taken.
    await browser.send_audio(silence_pcm(100))
    await settle(live, browser)
    assert live.buffer.resume_from_seq == before["resume_from_seq"] + 1
    await browser.close()


async def test_binary_frame_is_refused_and_changes_nothing(make_interview):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.wait_ai_quiet()
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    before = snapshot(live)
    await browser.send_raw(binary=bytes(4800))
    assert (await browser.expect("error"))["code"] == "binary_frame"
    assert snapshot(live) == before
    await browser.send_audio(silence_pcm(100))
    await settle(live, browser)
    assert live.buffer.resume_from_seq == before["resume_from_seq"] + 1


@pytest.mark.parametrize(
    "frame",
    [{"text": mic(audio=b64(bytes(60000)))}, {"binary": bytes(70000)}],
    ids=["text", "binary"],
)
async def test_oversized_frame_closes_4413_and_the_session_resumes(make_interview, frame):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    await browser.wait_ai_quiet()
    await browser.send_audio(silence_pcm(300))
    live = session_module.SESSIONS[(interview.pk, "sess-1")]
    await settle(live, browser)
    before = snapshot(live)

    await browser.send_raw(**frame)
    assert (await browser.expect("error"))["code"] == "frame_too_large"
    assert await browser.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4413}
    mic_fields = ("resume_from_seq", "mic_chunks", "mic_bytes")
    after = snapshot(live)  # the interviewer may go on speaking: only the mic side is compared
    assert {k: after[k] for k in mic_fields} == {k: before[k] for k in mic_fields}

    again = Browser()
    again.seq, again.clock = browser.seq, browser.clock
    await again.connect()
    ready = await again.start(interview.pk, token)
    assert ready["resume_from_seq"] == before["resume_from_seq"]
    await again.send_audio(silence_pcm(100))
    await settle(live, again)
    await again.close()


async def test_non_string_event_before_start_is_bad_event():
    browser = await Browser().connect()
    for event in ({"a": 1}, ["start"], None, 3):
        await browser.send({"event": event, "session_id": "s-1"})
        assert (await browser.expect("error"))["code"] == "bad_event"
    assert session_module.SESSIONS == {}
    assert await browser.ws.receive_nothing(timeout=0.1)


@pytest.mark.parametrize("session_id", ["..", ".", "a/b", "../7", "a" * 65, "x.y"])
async def test_session_ids_that_could_name_another_folder_are_refused(make_interview, session_id):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.send(
        {"event": "start", "session_id": session_id, "interview_id": interview.pk, "token": token}
    )
    assert (await browser.expect("error"))["code"] == "invalid_field"
    assert session_module.SESSIONS == {}
    await browser.close()


def test_spool_folder_names_never_leave_the_interview_folder():
    from media_export.spool import session_dir_name

    for session_id in ("..", ".", "../..", "a/../b"):
        name = session_dir_name(session_id)
        assert "/" not in name and name not in (".", "..") and "." not in name


@pytest.mark.parametrize(
    "frame",
    [
        mic(seq=0),
        json.dumps({"event": "ai_chunk_played", "seq": 0, "timestamp": 1.0}),
        json.dumps({"event": "ai_playback_interrupted", "seq": 0, "played_ms": 1.0}),
        json.dumps({"event": "recording_started", "timestamp": 1.0}),
        json.dumps({"event": "end"}),
    ],
)
async def test_events_before_start_are_refused(frame):
    browser = await Browser().connect()
    await browser.send_raw(text=frame)
    error = await browser.expect("error")
    assert error["code"] == "not_started"
    assert session_module.SESSIONS == {}
    assert await browser.ws.receive_nothing(timeout=0.1)  # still open: a valid start can follow


async def test_bad_start_fields_keep_the_connection(make_interview):
    interview, token = await make_interview()
    browser = await Browser().connect()
    for bad, code in [
        ({"session_id": "a b/../c"}, "invalid_field"),
        ({"interview_id": "abc"}, "invalid_field"),
        ({"token": ""}, "invalid_field"),
        ({"session_id": None}, "invalid_field"),
    ]:
        message = {
            "event": "start",
            "session_id": "s-1",
            "interview_id": interview.pk,
            "token": token,
            **bad,
        }
        await browser.send(message)
        assert (await browser.expect("error"))["code"] == code
    ready = await browser.start(interview.pk, token)
    assert ready["resume_from_seq"] == 0


@pytest.mark.parametrize("which", ["garbage", "other_interview"])
async def test_unauthorized_start_closes_4401(make_interview, which):
    interview, _token = await make_interview()
    _other, other_token = await make_interview()
    browser = await Browser().connect()
    bad_token = "garbage.token" if which == "garbage" else other_token
    await browser.send(
        {"event": "start", "session_id": "s", "interview_id": interview.pk, "token": bad_token}
    )
    assert (await browser.expect("error"))["code"] == "unauthorized"
    closed = await browser.ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4401}
    await interview.arefresh_from_db()
    assert interview.status == Interview.Status.INVITED


async def test_finished_interview_closes_4409(make_interview):
    interview, token = await make_interview(status=Interview.Status.COMPLETED)
    browser = await Browser().connect()
    await browser.send(
        {"event": "start", "session_id": "s", "interview_id": str(interview.pk), "token": token}
    )
    assert (await browser.expect("error"))["code"] == "interview_finished"
    assert await browser.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4409}


async def test_a_server_fault_is_reported_and_the_socket_survives(make_interview, monkeypatch):
    interview, token = await make_interview()
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    live = session_module.SESSIONS[(interview.pk, "sess-1")]

    def broken(timestamp, segment=None):
        raise OSError("disk full")

    monkeypatch.setattr(live, "on_recording_started", broken)
    await browser.send({"event": "recording_started", "timestamp": 0.1})
    assert (await browser.expect("error"))["code"] == "internal_error"
    await browser.send_audio(silence_pcm(100))
    await settle(live, browser)
