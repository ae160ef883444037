"""Spools shipped as segments: a session written on two nodes joins back exactly, a missing
segment or chunk fails the export with a reason, and a resume elsewhere asks for the rest."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from interviews.models import Interview
from interviews.services import create_interview
from media_export import recording, storage
from media_export.exporting import run_export
from media_export.models import MediaExport, SpoolSegment
from media_export.services import save_mixed_audio
from media_export.shipping import SpoolShipper
from media_export.spool import SpoolWriter
from media_export.stored_spool import IncompleteSpool, find_session
from realtime.audio_buffer import AudioBuffer

from . import objectstore

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def endpoint():
    with objectstore.moto_endpoint() as url:
        yield url


@pytest.fixture(autouse=True)
def bucket(endpoint, settings):
    name = objectstore.new_bucket(endpoint)
    objectstore.apply_settings(settings, endpoint, name)
    return name


INTERVIEW_STATUS = Interview.Status.COMPLETED  # see conftest.interview


def on_node(settings, tmp_path, name):
    """Switch this process to another node's local disk (the bucket stays shared)."""
    settings.SPOOL_DIR = tmp_path / name / "spool"


def mic(seq):
    return np.full(2400, seq + 1, dtype="<i2").tobytes()  # 100 ms, the seq in every sample


def ai(seq):
    return np.full(1200, -(seq + 1), dtype="<i2").tobytes()


def write_two_nodes(settings, tmp_path, interview_id, *, ship_last=True):
    on_node(settings, tmp_path, "a")
    a = SpoolWriter(interview_id, "sess", flush_seconds=0)
    ship_a = SpoolShipper(a)
    for seq in range(50):
        a.add_mic(seq, 10.0 + seq * 0.1, mic(seq))
        if seq % 10 == 0:
            a.add_ai(seq // 10, 10.0 + seq * 0.1, ai(seq // 10), "item", "resp")
        if seq in (9, 29):
            assert ship_a.ship() is not None
    assert ship_a.ship() is not None
    assert ship_a.ship() is None  # nothing new: no request
    a.close()

    on_node(settings, tmp_path, "b")
    restored = find_session(interview_id, "sess", strict=False)
    b = SpoolWriter(interview_id, "sess", flush_seconds=0)
    buffer = AudioBuffer(b, restore=restored)
    assert b.writer_id != a.writer_id
    assert buffer.resume_from_seq == 50 and buffer.next_ai_seq == 5
    for seq in range(45, 100):  # the browser resends a few it already sent: dropped
        buffer.add_mic_chunk(seq, 10.0 + seq * 0.1, mic(seq))
    for n in range(5, 8):
        assert buffer.add_ai_chunk(ai(n), "item2", "resp2", 16.0 + n) == n
    buffer.close(ended=True)
    if ship_last:
        SpoolShipper(b).ship()
    return a, b


def test_a_session_written_on_two_nodes_joins_exactly(settings, tmp_path, interview):
    a, _ = write_two_nodes(settings, tmp_path, interview.pk)
    assert SpoolSegment.objects.filter(writer=a.writer_id).count() == 3
    on_node(settings, tmp_path, "worker")  # sees neither node's disk
    spool = find_session(interview.pk, "sess")
    assert [c.seq for c in spool.mic] == list(range(100))
    assert [c.seq for c in spool.ai] == list(range(8))
    assert spool.ended_cleanly
    pcm = np.memmap(spool.mic_path, dtype="<i2", mode="r")
    for chunk in spool.mic:
        samples = pcm[chunk.offset // 2 : (chunk.offset + chunk.length) // 2]
        assert len(samples) == 2400 and set(samples.tolist()) == {chunk.seq + 1}
    outcome = save_mixed_audio(interview.pk)
    with storage.local_copy(outcome.paths["ai"]) as path:
        from media_export.mixing import read_wav

        heard = read_wav(path)
    assert sum(1 for v in set(heard.tolist()) if v < 0) == 8  # every AI chunk, both nodes


def test_a_missing_segment_fails_with_a_reason(settings, tmp_path, interview):
    write_two_nodes(settings, tmp_path, interview.pk)
    on_node(settings, tmp_path, "worker")
    lost = SpoolSegment.objects.get(number=1)  # the second of node A's three
    storage.delete(lost.name)
    with pytest.raises(IncompleteSpool, match=r"segment 1 of session 'sess'.*missing"):
        find_session(interview.pk, "sess")
    # A resume uses the part that joins up, and asks the browser for the rest.
    partial = find_session(interview.pk, "sess", strict=False)
    assert [c.seq for c in partial.mic][:10] == list(range(10))


def test_the_export_refuses_audio_with_gaps(settings, tmp_path, interview):
    write_two_nodes(settings, tmp_path, interview.pk)
    on_node(settings, tmp_path, "worker")
    last_of_a = SpoolSegment.objects.filter(number=2).get()
    storage.delete(last_of_a.name)
    export = MediaExport.objects.create(interview=interview, video_upload="uploads/videos/x.mp4")
    storage.save_bytes(export.video_upload, b"not really a video")
    settings.MIX_WAIT_SECONDS = 0
    with pytest.raises(IncompleteSpool):
        run_export(interview.pk)
    export.refresh_from_db()
    assert export.status == "failed" and "missing from the media storage" in export.error


def test_the_export_names_chunks_that_never_arrived(settings, interview):
    writer = SpoolWriter(interview.pk, "gappy", flush_seconds=0)
    for seq in [*range(10), *range(15, 20)]:  # 5 mic chunks lost on the way
        writer.add_mic(seq, 10.0 + seq * 0.1, mic(seq))
    writer.add_ai(0, 10.0, ai(0))
    writer.end()
    writer.close()
    export = MediaExport.objects.create(interview=interview, video_upload="uploads/videos/x.mp4")
    storage.save_bytes(export.video_upload, b"not really a video")
    settings.MIX_WAIT_SECONDS = 0
    with pytest.raises(Exception, match="5 microphone audio chunks"):
        run_export(interview.pk)
    export.refresh_from_db()
    assert export.status == "failed"
    assert "5 microphone audio chunks (about 0.5 s) of session 'gappy'" in export.error


def test_prune_spools_removes_exported_spools_after_the_retention(settings, tmp_path, interview):
    write_two_nodes(settings, tmp_path, interview.pk)  # this process is now node B
    other, _ = create_interview(job_title="Eng", candidate_name="D", candidate_email="d@x.io")
    write_two_nodes(settings, tmp_path, other.pk)
    ended = timezone.now() - timedelta(days=9)
    for pk, status in ((interview.pk, "done"), (other.pk, "running")):
        MediaExport.objects.create(
            interview_id=pk,
            status=status,
            finished_at=ended,
            session_ended_at=ended,
            exported_session_end=ended,
        )
    recording.store_part(interview.pk, 0, 0, b"\x1a\x45\xdf\xa3 part zero")
    recording.close(interview.pk)
    names = list(SpoolSegment.objects.filter(interview=interview).values_list("name", flat=True))
    names.append(recording.part_name(interview.pk, 0, 0))
    assert names and all(storage.exists(n) for n in names)
    folder = settings.SPOOL_DIR / str(interview.pk)

    out = io.StringIO()
    call_command("prune_spools", "--dry-run", stdout=out)
    assert "in 4 stored segment(s) and 1 recording part(s) of 1 interview(s)" in out.getvalue()
    assert folder.exists() and all(storage.exists(n) for n in names)
    call_command("prune_spools", "--older-than", "10d", stdout=io.StringIO())
    assert folder.exists()  # exported 9 days ago: kept
    call_command("prune_spools", stdout=io.StringIO())  # the default retention: 7 days
    assert not folder.exists() and not any(storage.exists(n) for n in names)
    assert not SpoolSegment.objects.filter(interview=interview).exists()
    assert recording.is_closed(interview.pk)  # still final: nothing can be uploaded again
    assert SpoolSegment.objects.filter(interview=other).count() == 4  # still exporting
    assert (settings.SPOOL_DIR / str(other.pk)).exists()
