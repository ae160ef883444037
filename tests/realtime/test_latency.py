import logging

import pytest

from realtime.clock import ClientClock, InputAudioMap
from realtime.latency import LatencyTracker, percentile


def test_percentile_interpolates():
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(range(101)), 95) == 95


def test_turn_figures_and_log(caplog):
    tracker = LatencyTracker(interview_id=3, log_turns=True)
    tracker.speech_stopped(speech_end_t=10.0, server_now=100.5, client_now=10.6)
    tracker.ai_audio(7, server_now=100.8, client_now=10.9)
    tracker.ai_audio(8, server_now=100.9, client_now=11.0)  # only the first chunk counts
    assert tracker.ai_played(8, 11.2) is None
    with caplog.at_level(logging.INFO, logger="realtime.latency"):
        figures = tracker.ai_played(7, 11.0)
    assert figures == pytest.approx(
        {
            "end_of_turn_ms": 600.0,
            "first_audio_ms": 300.0,
            "playback_start_ms": 100.0,
            "voice_to_voice_ms": 1000.0,
        }
    )
    assert "interview 3 turn 1" in caplog.text and "voice_to_voice_ms=1000" in caplog.text
    summary = tracker.summary()
    assert summary["turns"] == 1 and summary["first_audio_ms"]["p50"] == pytest.approx(300.0)


def test_a_turn_without_reply_is_dropped_when_the_candidate_speaks_again():
    tracker = LatencyTracker(interview_id=1)
    tracker.speech_stopped(1.0, 10.0, 1.1)
    tracker.speech_started()
    tracker.ai_audio(0, 11.0, 2.0)
    assert tracker.ai_played(0, 2.1) is None and tracker.turns == 0


def test_client_clock_uses_the_fastest_chunk():
    clock = ClientClock(now=50.0)
    assert clock.to_client(51.0) == pytest.approx(1.0)  # before any chunk: zero at start
    clock.observe(client_end=0.1, server_now=100.3)  # 200 ms in flight
    clock.observe(client_end=0.2, server_now=100.25)  # 50 ms in flight: the better estimate
    clock.observe(client_end=0.3, server_now=101.0)  # a late resend changes nothing
    assert clock.to_client(100.35) == pytest.approx(0.3)


def test_input_audio_map():
    audio = InputAudioMap()
    assert audio.to_client(0) is None
    audio.add(5.0, 100)
    audio.add(5.1, 100)
    audio.add(9.0, 100)  # after a gap on the client clock (e.g. a resume)
    assert audio.to_client(150) == pytest.approx(5.15)
    assert audio.to_client(250) == pytest.approx(9.05)
