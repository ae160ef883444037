"""The mixer: sample-exact placement, sums, limiter, telemetry rules, bad spool data."""

import hashlib
import logging
import wave

import numpy as np
import pytest

from media_export.mixing import INT16_MAX, KNEE, limit, render
from media_export.models import MediaExport
from media_export.services import ExportError, save_mixed_audio
from media_export.spool import interview_spool_dir, read_session
from media_export.stored_spool import latest_session
from media_export.timeline import build_timeline

from .helpers import SR, SpoolBuilder, const, tone

REC = 10.0  # recording_started on the client clock


def mix(builder: SpoolBuilder, **kwargs):
    builder.close()
    spool = read_session(builder.writer.directory)
    timeline = build_timeline(spool, **kwargs)
    return spool, timeline, render(spool, timeline)


def pos(t: float) -> int:
    return round((t - REC) * SR)


def test_distinct_tones_land_sample_exact():
    a, b, c = tone(440, 0.1), tone(660, 0.1), tone(880, 0.1)
    s = SpoolBuilder(1).rec(REC)
    s.mic(0, REC + 0.5, a).mic(1, REC + 1.23456, b)
    s.ai(0, REC + 1.9, c, played=REC + 2.00004)
    _, timeline, tracks = mix(s)
    for t, sig, track in (
        (REC + 0.5, a, tracks.mic),
        (REC + 1.23456, b, tracks.mic),
        (REC + 2.00004, c, tracks.ai),
    ):
        p = pos(t)
        assert np.array_equal(track[p : p + len(sig)], sig)
    expected = np.zeros(len(tracks.mixed), dtype=np.int16)
    expected[pos(REC + 0.5) : pos(REC + 0.5) + 2400] = a
    expected[pos(REC + 1.23456) : pos(REC + 1.23456) + 2400] = b
    expected[pos(REC + 2.00004) : pos(REC + 2.00004) + 2400] = c
    assert np.array_equal(tracks.mixed, expected)
    assert len(tracks.mixed) == pos(REC + 2.00004) + 2400
    assert timeline.basis == "recording_started"


def test_overlap_sums_within_and_across_tracks():
    s = SpoolBuilder(1).rec(REC)
    s.mic(0, REC + 0.1, const(1000, 4800))
    s.mic(1, REC + 0.15, const(300, 2400))  # overlapping mic chunk (a resend after a gap)
    s.ai(0, REC, const(2000, 4800), played=REC + 0.2)
    _, _, t = mix(s)
    assert t.mic[pos(REC + 0.12)] == 1000
    assert t.mic[pos(REC + 0.16)] == 1300
    assert t.mixed[pos(REC + 0.16)] == 1300
    assert t.mixed[pos(REC + 0.22)] == 3300
    assert t.mixed[pos(REC + 0.27)] == 3000
    assert t.mixed[pos(REC + 0.35)] == 2000
    assert t.ai[pos(REC + 0.19)] == 0


def test_loud_overlap_never_wraps_and_quiet_samples_are_untouched():
    loud = tone(300, 0.5, amplitude=30000)
    s = SpoolBuilder(1).rec(REC)
    s.mic(0, REC, loud)
    s.ai(0, REC, loud, played=REC)
    s.mic(1, REC + 1.0, tone(500, 0.1, amplitude=12000))
    _, _, t = mix(s)
    total = 2 * loud.astype(np.int32)
    seg = t.mixed[: len(loud)].astype(np.int32)
    assert np.abs(seg).max() <= INT16_MAX
    # No wrap-around: every sample keeps the sign of the true sum, and loud stays loud.
    assert np.all(np.sign(seg[total != 0]) == np.sign(total[total != 0]))
    assert np.all(np.abs(seg[np.abs(total) > KNEE]) >= KNEE)
    quiet = np.abs(total) <= KNEE
    assert np.array_equal(seg[quiet], total[quiet])
    p = pos(REC + 1.0)
    assert np.array_equal(t.mixed[p : p + 2400], tone(500, 0.1, amplitude=12000))


def test_limiter_is_monotonic_and_bounded():
    x = np.arange(-70000, 70001, 7, dtype=np.int32)
    y = limit(x).astype(np.int32)
    assert y.max() <= INT16_MAX and y.min() >= -INT16_MAX
    assert np.all(np.diff(y) >= 0)
    inside = np.abs(x) <= KNEE
    assert np.array_equal(y[inside], x[inside])


def test_missing_telemetry_goes_after_previous_chunk_or_its_provisional_time(caplog):
    s = SpoolBuilder(1).rec(REC)
    s.ai(0, REC + 0.9, const(100, 2400), played=REC + 1.0)
    s.ai(1, REC + 0.5, const(200, 2400))  # no telemetry, provisional earlier -> after seq 0
    s.ai(2, REC + 5.0, const(300, 2400))  # no telemetry, provisional later -> at 5.0
    with caplog.at_level(logging.WARNING, logger="media_export"):
        _, timeline, t = mix(s)
    assert timeline.missing_telemetry == 2
    assert list(timeline.ai.dst) == [pos(REC + 1.0), pos(REC + 1.1), pos(REC + 5.0)]
    assert t.ai[pos(REC + 1.1)] == 200 and t.ai[pos(REC + 1.1) - 1] == 100
    assert t.ai[pos(REC + 5.0)] == 300 and t.ai[pos(REC + 5.0) - 1] == 0
    assert "2 of 3 AI chunks" in caplog.text and "no playback telemetry" in caplog.text


def test_jitter_between_chunks_of_a_response_is_snapped():
    speech = tone(523.25, 0.4)
    chunks = [speech[i : i + 2400] for i in range(0, 9600, 2400)]
    s = SpoolBuilder(1).rec(REC)
    s.ai(0, REC, chunks[0], played=REC + 1.0)
    s.ai(1, REC, chunks[1], played=REC + 1.1 + 0.004)  # 4 ms gap: jitter
    s.ai(2, REC, chunks[2], played=REC + 1.2 - 0.003)  # 3 ms overlap: jitter
    s.ai(3, REC, chunks[3], played=REC + 1.3 + 0.009)  # 9 ms: still jitter
    _, timeline, t = mix(s)
    p = pos(REC + 1.0)
    assert timeline.snapped == 3
    assert np.array_equal(t.ai[p : p + 9600], speech)  # no click, no doubled samples
    assert t.ai[p + 9600 :].max(initial=0) == 0


def test_real_gaps_and_other_responses_are_not_snapped():
    a, b = const(1000, 2400), const(2000, 2400)
    s = SpoolBuilder(1).rec(REC)
    s.ai(0, REC, a, played=REC + 1.0, resp="r1")
    s.ai(1, REC, b, played=REC + 1.15, resp="r1")  # 50 ms gap: real silence
    s.ai(2, REC, a, played=REC + 1.255, resp="r2")  # 5 ms after, but another response
    _, timeline, t = mix(s)
    assert timeline.snapped == 0
    assert list(timeline.ai.dst) == [pos(REC + 1.0), pos(REC + 1.15), pos(REC + 1.255)]
    assert t.ai[pos(REC + 1.12)] == 0


def test_interruption_truncates_and_drops_the_rest_of_the_response():
    s = SpoolBuilder(1).rec(REC)
    for seq in range(5):
        s.ai(seq, REC, const(1000 + seq, 2400), resp="r1", played=REC + 1.0 + 0.1 * seq)
    s.cut(1, 40.0)  # 40 ms of chunk 1 were heard
    s.ai(5, REC, const(2222, 2400), resp="r2", played=REC + 3.0)
    _, timeline, t = mix(s)
    cut = pos(REC + 1.1) + 960
    assert np.all(t.ai[pos(REC + 1.0) : pos(REC + 1.1)] == 1000)
    assert np.all(t.ai[pos(REC + 1.1) : cut] == 1001)
    assert np.all(t.ai[cut : pos(REC + 3.0)] == 0)
    assert np.all(t.ai[pos(REC + 3.0) : pos(REC + 3.1)] == 2222)
    assert timeline.dropped_after_cut == 3
    assert timeline.cuts == [cut]


def test_interruption_without_response_ids_drops_until_next_reported_chunk():
    s = SpoolBuilder(1).rec(REC)
    s.ai(0, REC, const(1000, 2400), resp="", item="", played=REC + 1.0)
    s.ai(1, REC, const(1001, 2400), resp="", item="")
    s.cut(0, 50.0)
    s.ai(2, REC, const(1002, 2400), resp="", item="", played=REC + 2.0)
    _, timeline, t = mix(s)
    assert timeline.dropped_after_cut == 1
    assert np.all(t.ai[pos(REC + 1.05) : pos(REC + 2.0)] == 0)
    assert t.ai[pos(REC + 2.0)] == 1002


def test_duplicates_and_out_of_order_chunks():
    chunks = [const(100 * (i + 1), 2400) for i in range(4)]
    s = SpoolBuilder(1).rec(REC)
    for seq in (3, 1, 2, 0):
        s.mic(seq, REC + 0.1 * seq, chunks[seq])
    s.mic(2, REC + 0.2, const(9999, 2400))  # a resent duplicate: first copy wins
    s.ai(0, REC, const(50, 2400), played=REC + 1.0)
    s.ai(0, REC, const(77, 2400))  # duplicate AI seq
    s.played(0, REC + 2.0)  # duplicate telemetry: the first report wins
    _, timeline, t = mix(s)
    assert np.array_equal(t.mic[:9600], np.concatenate(chunks))
    assert len(timeline.mic) == 4 and len(timeline.ai) == 1
    assert np.all(t.ai[pos(REC + 1.0) : pos(REC + 1.1)] == 50)
    assert t.ai[pos(REC + 2.0) :].max(initial=0) == 0


def test_without_recording_started_zero_is_first_mic_chunk(caplog):
    s = SpoolBuilder(1)
    s.mic(0, 3.5, const(10, 2400)).mic(1, 3.6, const(20, 2400))
    with caplog.at_level(logging.WARNING, logger="media_export"):
        _, timeline, t = mix(s)
    assert timeline.zero == 3.5 and timeline.basis == "first_mic_chunk"
    assert t.mic[0] == 10 and t.mic[2400] == 20
    assert "No recording_started" in caplog.text


def test_audio_before_zero_is_dropped_not_wrapped():
    s = SpoolBuilder(1).rec(REC)
    s.mic(0, REC - 0.05, const(500, 2400))  # starts 50 ms before zero
    _, _, t = mix(s)
    assert len(t.mic) == 2400 - 1200
    assert np.all(t.mic == 500)


def test_torn_index_and_unflushed_pcm_are_ignored():
    s = SpoolBuilder(1).rec(REC)
    s.mic(0, REC, const(5, 2400)).mic(1, REC + 0.1, const(6, 2400)).close()
    directory = s.writer.directory
    with open(directory / "index.jsonl", "ab") as fh:
        fh.write(b'{"k":"mic","seq":2,"t":10.2,"off":9600,"n":4800}\n')  # PCM never written
        fh.write(b'{"k":"mic","seq":3,"t":10.3,"off"')  # torn line
        fh.write(b"\n{not json}\n")
    spool = read_session(directory)
    assert [c.seq for c in spool.mic] == [0, 1]
    assert spool.recording_started == REC


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_save_mixed_audio_writes_three_wavs_and_is_idempotent(interview, settings):
    s = SpoolBuilder(interview.pk).rec(REC)
    s.mic(0, REC + 0.2, tone(440, 0.3)).ai(0, REC, tone(660, 0.3), played=REC + 0.7).end()
    outcome = save_mixed_audio(interview)
    interview.refresh_from_db()
    assert interview.audio_paths == {
        "mic": f"uploads/audio/{interview.pk}_mic.wav",
        "ai": f"uploads/audio/{interview.pk}_ai.wav",
        "mixed": f"uploads/audio/{interview.pk}_mixed.wav",
    }
    files = {k: settings.MEDIA_ROOT / v for k, v in interview.audio_paths.items()}
    for path in files.values():
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
            assert w.getnframes() == pos(REC + 1.0)
    first = {k: _digest(p) for k, p in files.items()}
    save_mixed_audio(interview)
    assert {k: _digest(p) for k, p in files.items()} == first
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.mixed_at is not None and export.timeline_basis == "recording_started"
    assert export.timeline["mic"] and export.timeline["ai"]
    assert outcome.summary["turns"][0]["latency_ms"] == pytest.approx(200, abs=50)
    assert not list(files["mic"].parent.glob("*.tmp"))


def test_mixing_failure_is_logged_and_leaves_the_spool(interview, settings, caplog):
    s = SpoolBuilder(interview.pk).rec(REC)
    s.mic(0, REC, tone(440, 0.1)).end()
    before = {p.name: p.read_bytes() for p in s.writer.directory.iterdir()}
    settings.UPLOADS_AUDIO_DIR.parent.mkdir(parents=True)
    settings.UPLOADS_AUDIO_DIR.write_text("a file where the folder should be")
    with caplog.at_level(logging.ERROR, logger="media_export"), pytest.raises(OSError):
        save_mixed_audio(interview)
    assert "Audio mixing failed" in caplog.text
    assert {p.name: p.read_bytes() for p in s.writer.directory.iterdir()} == before
    assert MediaExport.objects.get(pk=interview.pk).mix_error


def test_mixing_without_any_spool_fails_clearly(interview, caplog):
    with caplog.at_level(logging.ERROR, logger="media_export"), pytest.raises(ExportError):
        save_mixed_audio(interview)
    assert "Audio mixing failed" in caplog.text and "no spooled audio" in caplog.text


def test_sessions_are_ordered_by_first_record_time(settings, db):
    old = SpoolBuilder(7, "zzz-old").rec(1.0)
    old.mic(0, 1.0, const(1, 2400)).end()
    new = SpoolBuilder(7, "aaa-new").rec(1.0)
    new.mic(0, 1.0, const(2, 2400)).end()
    assert latest_session(7).session_id == "aaa-new"
    assert interview_spool_dir(7).exists()
