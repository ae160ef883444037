"""Pairing recording segments with sessions and placing them on the MP4's clock (numbers only)."""

import logging
from pathlib import Path

import pytest

from media_export.picture import render_svg
from media_export.placing import Measured, gaps, pair_sessions, place_segments
from media_export.spool import SessionSpool


def session(name, segment=None, rec=1.0):
    return SessionSpool(Path(name), name, recording_started=rec, recording_segment=segment)


def test_a_session_that_names_its_segment_wins_over_the_order():
    a, b, c = session("a", segment=1), session("b", segment=0), session("c")
    paired = pair_sessions([0, 1, 2], [a, b, c])
    assert paired == {0: b, 1: a, 2: c}


def test_unnamed_segments_take_the_unnamed_sessions_in_order_preferring_recorders(caplog):
    no_camera = session("no-camera", rec=None)  # audio, but its recorder never started
    a, b, named = session("a"), session("b"), session("named", segment=1)
    with caplog.at_level(logging.INFO, logger="media_export"):
        paired = pair_sessions([0, 1, 3], [no_camera, a, named, b])
    assert paired == {0: a, 1: named, 3: b}
    assert "Segment 3 is named by no session; paired with session b" in caplog.text


def test_a_segment_without_a_session_is_paired_with_none():
    other = session("other", segment=5)  # names a segment whose first part never arrived
    assert pair_sessions([0, 1], [session("a"), other]) == {0: session("a"), 1: None}


def test_segments_are_placed_from_the_first_ones_zero():
    places = place_segments(
        [Measured(0, 4.0, 10.0, "measured", 0.9, "a"), Measured(1, 4.0, 17.0, "measured", 0.8, "b")]
    )
    assert [(p.start, p.end) for p in places] == [(0.0, 4.0), (7.0, 11.0)]
    assert gaps([p.as_json() for p in places]) == [(4.0, 7.0)]
    assert places[1].as_json() == {
        "segment": 1,
        "session_id": "b",
        "start": 7.0,
        "end": 11.0,
        "alignment": "measured",
        "confidence": 0.8,
    }


def test_an_overlapping_segment_cuts_the_previous_ones_end(caplog):
    with caplog.at_level(logging.WARNING, logger="media_export"):
        places = place_segments([Measured(0, 4.0, 10.0), Measured(1, 4.0, 13.5)])
    assert [(p.start, p.end) for p in places] == [(0.0, 3.5), (3.5, 7.5)]
    assert places[0].keep == pytest.approx(3.5)
    assert "Segment 1 starts 0.500 s before segment 0 ends: its end is cut there" in caplog.text
    assert gaps([p.as_json() for p in places]) == []


def test_a_segment_without_a_session_goes_next_to_its_neighbours(caplog):
    with caplog.at_level(logging.WARNING, logger="media_export"):
        places = place_segments(
            [Measured(0, 2.0, None), Measured(1, 4.0, 10.0), Measured(2, 1.5, None)]
        )
    # Before the first measured segment: right before it; after: right after the previous.
    assert [(p.start, p.end) for p in places] == [(0.0, 2.0), (2.0, 6.0), (6.0, 7.5)]
    assert places[0].zero == 8.0 and places[0].alignment == "adjacent"
    assert "Segment 0 has no session to measure it against" in caplog.text


def test_a_segment_whose_clock_runs_backwards_is_placed_after_the_previous(caplog):
    with caplog.at_level(logging.WARNING, logger="media_export"):
        places = place_segments([Measured(0, 4.0, 10.0), Measured(1, 2.0, 8.0)])
    assert [(p.start, p.end) for p in places] == [(0.0, 4.0), (4.0, 6.0)]
    assert "the clocks disagree" in caplog.text


def test_the_picture_shades_the_gaps():
    summary = {"duration": 11.0, "mic": [[0.5, 2.0]], "ai": [], "cuts": [], "turns": []}
    svg = render_svg(summary, [(4.0, 7.0)])
    assert svg.count('class="gap"') == 1 and "no video 4.00–7.00 s" in svg
    assert 'class="gap"' not in render_svg(summary)
