"""A process writing the spool is SIGKILLed; ``remix_interview`` rebuilds all it acknowledged."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from interviews.services import create_interview
from media_export.mixing import read_wav
from media_export.spool import SpoolWriter, read_session

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import os, sys, time
import django
django.setup()
import numpy as np
from media_export.spool import SpoolWriter

interview_id, ack_path = int(sys.argv[1]), sys.argv[2]
writer = SpoolWriter(interview_id, "crash-session")
writer.recording_started(100.0)
ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
seq = 0
while True:  # 100 ms chunks, faster than real time; killed from outside
    value = (seq % 30000) + 1
    writer.add_mic(seq, 100.0 + seq * 0.1, np.full(2400, value, dtype="<i2").tobytes())
    if seq % 3 == 0:
        writer.add_ai(seq // 3, 100.0 + seq * 0.1, np.full(2400, -value, dtype="<i2").tobytes(),
                      "item", "resp")
        writer.ai_played(seq // 3, 100.0 + seq * 0.1 + 0.05)
    os.pwrite(ack, f"{seq:012d}".encode(), 0)  # acknowledged: add_mic returned
    seq += 1
    time.sleep(0.001)
"""


@pytest.mark.django_db
def test_sigkill_loses_nothing_acknowledged_and_remix_rebuilds_it(tmp_path, settings):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    ack = tmp_path / "ack"
    env = {
        **os.environ,
        "SECRET_KEY": "t",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "interviewsite.settings",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(interview.pk), str(ack)], env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while not ack.exists() or not ack.read_bytes() or int(ack.read_bytes()) < 300:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    acknowledged = int(ack.read_bytes())
    assert proc.returncode == -signal.SIGKILL

    spool = read_session(settings.SPOOL_DIR / str(interview.pk) / "crash-session")
    assert not spool.ended_cleanly
    assert len(spool.mic) >= acknowledged + 1  # everything acknowledged survived

    out = io.StringIO()
    call_command("remix_interview", str(interview.pk), stdout=out)
    assert "Timeline: zero 100.000 s (recording_started)" in out.getvalue()
    interview.refresh_from_db()
    mic = read_wav(settings.MEDIA_ROOT / interview.audio_paths["mic"])
    ai = read_wav(settings.MEDIA_ROOT / interview.audio_paths["ai"])
    for seq in range(acknowledged + 1):
        chunk = mic[seq * 2400 : (seq + 1) * 2400]
        assert np.all(chunk == (seq % 30000) + 1), seq
    for seq in range(0, acknowledged + 1, 3):
        start = seq * 2400 + 1200
        assert np.all(ai[start : start + 2400] == -((seq % 30000) + 1)), seq


def test_writer_memory_does_not_grow_with_chunks(settings):
    """The writer keeps offsets and handles only: its size is the same after 20k chunks."""
    import tracemalloc

    writer = SpoolWriter(1, "long", flush_seconds=1.0)
    pcm = np.zeros(2400, dtype="<i2").tobytes()
    for seq in range(1000):
        writer.add_mic(seq, seq * 0.1, pcm)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for seq in range(1000, 21000):
        writer.add_mic(seq, seq * 0.1, pcm)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    writer.close()
    assert grown < 64 * 1024
    assert (writer.directory / "mic.pcm").stat().st_size == 21000 * 4800


def test_idle_writer_is_flushed_within_the_flush_period(settings):
    writer = SpoolWriter(1, "idle", flush_seconds=0.3)
    writer.add_mic(0, 0.0, b"\0\0" * 10)
    writer._last_sync = time.monotonic()  # as if it had just synced before this write
    writer._dirty = True
    deadline = time.monotonic() + 2.0
    while writer._dirty and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not writer._dirty  # the background flusher synced it without another write
    writer.close()
    with pytest.raises(ValueError):
        writer.add_mic(1, 0.1, b"\0\0")
