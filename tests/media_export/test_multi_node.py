"""Two daphne nodes with separate disks, an export worker with a third, one database, Redis
and an S3 endpoint: a session starts on node A, moves to node B, and the worker's export
holds every mic chunk exactly once and every AI chunk, from a clean drop and from a
SIGKILLed node A (where only what A received after its last shipment may be lost)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import wave

import numpy as np
import pytest

from media_export import ffmpeg
from media_export.shipping import decode_segment

from . import objectstore
from .cluster import CHUNK, RATE, SHIP_SECONDS, Candidate, Process, base_env, create_interview
from .cluster import manage as run_manage
from .helpers import make_video, speechlike, write_wav

pytestmark = pytest.mark.redis

KNEE = round(0.891 * 32767)
VIDEO_SECONDS = 6  # the mixer's limiter leaves samples below this untouched


@pytest.fixture(scope="module")
def endpoint():
    with objectstore.moto_endpoint() as url:
        yield url


@pytest.fixture
def database_url(tmp_path):
    """PostgreSQL when the suite runs on it (a scratch database), else one SQLite file."""
    from tests.admin_explorer.daphne_server import scratch_database

    configured = os.environ.get("DATABASE_URL", "")
    with scratch_database(configured) as url:
        yield url or f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.fixture
def cluster(tmp_path, endpoint, database_url):
    bucket = objectstore.new_bucket(endpoint)
    redis_url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")
    env = base_env(tmp_path, database_url, redis_url, objectstore.storage_env(endpoint, bucket))
    (tmp_path / "var").mkdir()
    run_manage(env, "migrate", "--noinput", "-v", "0")
    nodes = {}
    try:
        nodes["a"] = Process.daphne("a", env, tmp_path)
        nodes["b"] = Process.daphne("b", env, tmp_path)
        nodes["worker"] = Process.worker("worker", env, tmp_path)
        yield env, nodes, bucket
    finally:
        for node in nodes.values():
            node.stop()


def wav_samples(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def stored_ai_chunks(endpoint: str, bucket: str, interview_id: int) -> dict[tuple[int, bytes], int]:
    """AI chunks in the shipped segments: (seq, pcm) -> how many writers stored it."""
    s3 = objectstore.client(endpoint)
    found: dict[tuple[int, bytes], int] = {}
    writers: dict[str, list] = {}
    for key in sorted(objectstore.keys(endpoint, bucket, f"spool-segments/{interview_id}/")):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        writers.setdefault(key.split("/")[-2], []).append(decode_segment(body))
    for segments in writers.values():
        ai = b"".join(seg[2] for seg in segments)
        index = b"".join(seg[3] for seg in segments)
        base = segments[0][0]["ai"][0]
        for line in index.splitlines():
            record = json.loads(line)
            if record.get("k") == "ai":
                off = record["off"] - base
                key = (record["seq"], ai[off : off + record["n"]])
                found[key] = found.get(key, 0) + 1
    return found


async def interview_on_two_nodes(nodes, interview_id, token, candidate, parts, *, kill_a: bool):
    await candidate.attach(nodes["a"], interview_id, token)
    await candidate.speak(3.0, until_quiet=True)  # the greeting plays out on A
    assert await asyncio.to_thread(nodes["a"].put_part, interview_id, token, 0, parts[0]) == 201
    sent_to_a = candidate.next_seq
    if kill_a:
        killed_at = time.monotonic()
        nodes["a"].kill()
        await candidate.drop()
    else:
        killed_at = None
        await candidate.drop()
    ready = await candidate.attach(nodes["b"], interview_id, token)
    await candidate.speak(2.0, until_quiet=True)  # "welcome back" on B
    assert await asyncio.to_thread(nodes["b"].put_part, interview_id, token, 1, parts[1]) == 201
    await candidate.end()
    completed = await asyncio.to_thread(
        nodes["b"].complete, interview_id, token, 2, candidate.session_id
    )
    assert completed == 202
    return sent_to_a, ready, killed_at


@pytest.mark.parametrize("kill_a", [False, True], ids=["clean-drop", "sigkill"])
def test_a_session_moves_between_nodes_and_the_export_has_everything(
    tmp_path, cluster, endpoint, kill_a
):
    env, nodes, bucket = cluster
    interview_id, token = create_interview(env)
    candidate = Candidate(mic=speechlike(120.0, seed=11, amplitude=150.0))
    # The camera recording: the first seconds of what the microphone hears, in two parts
    # (one uploaded to each node, as the page's recorder would).
    video = make_video(
        tmp_path / "v.mp4",
        write_wav(tmp_path / "v.wav", candidate.mic[: VIDEO_SECONDS * RATE]),
        codec="h264",
        seconds=VIDEO_SECONDS,
    ).read_bytes()
    parts = [video[: len(video) // 2], video[len(video) // 2 :]]
    sent_to_a, ready, killed_at = asyncio.run(
        interview_on_two_nodes(nodes, interview_id, token, candidate, parts, kill_a=kill_a)
    )
    if kill_a:  # B asks for what storage lacks: at most what A got after its last shipment
        assert sent_to_a - (SHIP_SECONDS + 1.0) * 10 <= ready["resume_from_seq"] <= sent_to_a
    else:  # A shipped everything as it let go: exactly the missing chunks are asked for
        assert ready["resume_from_seq"] == sent_to_a

    sent = candidate.mic[: candidate.next_seq * CHUNK]
    deadline = time.monotonic() + 300
    while (status := nodes["b"].get_json(f"/api/interviews/{interview_id}/export?token={token}"))[
        "status"
    ] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"export stuck: {status}\n{nodes['worker'].output()}"
        time.sleep(0.5)
    assert status["status"] == "done", (status, nodes["worker"].output())

    s3 = objectstore.client(endpoint)

    def stored(name):
        return s3.get_object(Bucket=bucket, Key=name)["Body"].read()

    # The recording's parts, one from each node, were joined in the bucket.
    assert stored(f"uploads/videos/{interview_id}_upload.mp4") == video
    # Every mic chunk exactly once, sample for sample, where the client put it.
    mic = wav_samples(stored(status["audio_paths"]["mic"]))
    zero = round(status["timeline"]["zero"] * RATE)
    assert abs(zero) < RATE // 50, status["timeline"]
    head = max(zero, 0)
    np.testing.assert_array_equal(
        mic[max(-zero, 0) : max(-zero, 0) + len(sent) - head], sent[head:]
    )
    assert not mic[max(-zero, 0) + len(sent) - head :].any()

    # Every AI chunk the client heard is in storage and in the AI WAV at its place, except
    # (after a SIGKILL) ones A received in its last shipping period.
    heard = stored_ai_chunks(endpoint, bucket, interview_id)
    ai_wav = wav_samples(stored(status["audio_paths"]["ai"]))
    lost = [c for c in candidate.ai if (c.seq, c.pcm) not in heard]
    if kill_a:
        assert all(c.node == "a" and c.received >= killed_at - SHIP_SECONDS - 2.0 for c in lost)
    else:
        assert lost == []
    kept = [c for c in candidate.ai if (c.seq, c.pcm) in heard]
    assert {c.node for c in kept} == {"a", "b"}
    for chunk in kept:
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        at = round(chunk.played_at * RATE) - zero
        placed = ai_wav[at : at + len(samples)]
        quiet = np.abs(samples) < KNEE
        assert (placed[quiet] == samples[quiet]).mean() > 0.999, (chunk.node, chunk.seq)

    # The MP4 is whole: video and the mixed audio for the full length.
    mp4 = tmp_path / "out.mp4"
    mp4.write_bytes(stored(f"uploads/videos/{interview_id}.mp4"))
    info = ffmpeg.probe(mp4)
    assert info.video_codec == "h264"
    assert ffmpeg.stream_duration(mp4, "audio") == pytest.approx(VIDEO_SECONDS, abs=0.15)
    assert ffmpeg.stream_duration(mp4, "video") == pytest.approx(VIDEO_SECONDS, abs=0.15)
