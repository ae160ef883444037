"""AudioBuffer: dedup, ordering, provisional and client timestamps, truncation, resume."""

import logging

import pytest

from media_export.spool import SpoolWriter, read_session
from realtime.audio_buffer import AudioBuffer, UnknownSeq

PCM_100MS = bytes(4800)


@pytest.fixture
def buffer(settings):
    return AudioBuffer(SpoolWriter(7, "s-1"))


def test_mic_duplicates_ignored_and_out_of_order_placed(buffer):
    assert buffer.add_mic_chunk(0, 0.0, b"\x01\x00" * 2400)
    assert buffer.add_mic_chunk(2, 0.2, b"\x03\x00" * 2400)
    assert buffer.resume_from_seq == 1  # seq 1 is still missing
    assert buffer.add_mic_chunk(1, 0.1, b"\x02\x00" * 2400)
    assert not buffer.add_mic_chunk(1, 0.1, b"\x09\x00" * 2400)  # duplicate: first copy wins
    assert not buffer.add_mic_chunk(2, 0.2, PCM_100MS)
    assert buffer.resume_from_seq == 3 and buffer.mic_chunks == 3
    buffer.close(ended=True)
    spool = read_session(buffer.spool.directory)
    assert [(c.seq, c.timestamp) for c in spool.mic] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    data = spool.mic_path.read_bytes()
    assert len(data) == 3 * 4800 and b"\x09" not in data


def test_a_gap_never_filled_does_not_pin_the_watermark(settings):
    buffer = AudioBuffer(SpoolWriter(7, "s-gap"), max_mic_gap=10)
    buffer.add_mic_chunk(0, 0.0, PCM_100MS)
    for seq in range(2, 14):
        buffer.add_mic_chunk(seq, seq / 10, PCM_100MS)
    assert buffer.resume_from_seq == 14 and not buffer._mic_ahead


def test_ai_provisional_then_client_timestamp(buffer, caplog):
    first = buffer.add_ai_chunk(PCM_100MS, "item_a", "resp_a", received_t=1.0)
    second = buffer.add_ai_chunk(PCM_100MS, "item_a", "resp_a", received_t=1.02)
    assert (first, second) == (0, 1)
    # Provisional: back to back after the previous chunk, not at the receive time.
    assert buffer._ai[1].t == pytest.approx(1.1)
    with caplog.at_level(logging.DEBUG, logger="realtime.audio_buffer"):
        assert buffer.update_ai_timestamp(0, 1.25)
    assert "Updated AI chunk timestamp" in caplog.text
    assert not buffer.update_ai_timestamp(0, 9.0)  # repeated report ignored
    assert buffer.item_span("item_a")[0] == 1.25
    with pytest.raises(UnknownSeq):
        buffer.update_ai_timestamp(2, 1.0)
    buffer.close(ended=True)
    spool = read_session(buffer.spool.directory)
    assert spool.ai[0].played_at == 1.25 and spool.ai[1].played_at is None


def test_truncate_never_passes_received_audio(buffer):
    for _ in range(3):
        buffer.add_ai_chunk(PCM_100MS, "item_a", "resp_a", received_t=0.0)
    cut = buffer.truncate_ai(1, 40.0)
    assert (cut.item_id, cut.audio_end_ms) == ("item_a", 140)
    assert buffer.truncate_ai(1, 80.0) is None  # reported twice: first wins
    late = buffer.truncate_ai(2, 99999.0)  # played past the chunk: clamped to what exists
    assert late.audio_end_ms == 300
    with pytest.raises(UnknownSeq):
        buffer.truncate_ai(3, 1.0)


def test_metadata_is_bounded(settings):
    buffer = AudioBuffer(SpoolWriter(7, "s-long"), ai_window=50, item_window=4)
    for i in range(500):
        buffer.add_ai_chunk(PCM_100MS, f"item_{i // 10}", "r", received_t=i / 10)
        buffer.add_mic_chunk(i, i / 10, PCM_100MS)
    assert len(buffer._ai) == 50 and len(buffer._items) == 4 and not buffer._mic_ahead
    assert buffer.update_ai_timestamp(3, 0.5)  # old but sent: accepted and spooled
    with pytest.raises(UnknownSeq):
        buffer.update_ai_timestamp(500, 0.5)


def test_restore_from_spool_continues_counters(buffer):
    buffer.add_mic_chunk(0, 0.0, PCM_100MS)
    buffer.add_mic_chunk(1, 0.1, PCM_100MS)
    buffer.add_ai_chunk(PCM_100MS, "item_a", "r", 0.0)
    buffer.add_ai_chunk(PCM_100MS, "item_a", "r", 0.0)
    buffer.update_ai_timestamp(0, 0.5)
    buffer.close(ended=False)
    restored = AudioBuffer(SpoolWriter(7, "s-1"), restore=read_session(buffer.spool.directory))
    assert restored.resume_from_seq == 2 and restored.next_ai_seq == 2
    assert not restored.add_mic_chunk(1, 0.1, PCM_100MS)
    assert restored.item_audio_ms("item_a") == 200
    assert restored.truncate_ai(1, 50).audio_end_ms == 150
