"""Durable jobs: tasks, and recovery of a job whose worker was killed mid-run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from interviews.services import create_interview
from media_export.models import MediaExport, WorkerHeartbeat
from media_export.services import get_export, request_mixing
from media_export.worker import rescue_orphaned_tasks

from .helpers import SpoolBuilder, make_video, speechlike, write_wav

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_request_mixing_queues_a_task_that_the_worker_runs(settings):
    """The worker closes and reopens connections, so this test commits for real."""
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    s = SpoolBuilder(interview.pk, "s9").rec(1.0)
    s.mic_stream(1.0, speechlike(1.0)).end()
    request_mixing(interview.pk, "s9")
    task = DBTaskResult.objects.get(task_path="media_export.tasks.mix_interview_task")
    assert task.queue_name == "media" and task.status == "READY"
    call_command("run_export_worker", "--batch", "--no-startup-delay", verbosity=0)
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL", task.traceback
    interview.refresh_from_db()
    assert (settings.MEDIA_ROOT / interview.audio_paths["mixed"]).exists()
    export = get_export(interview.pk)
    assert export.audio_session_id == "s9" and export.session_ended_at and export.mixed_at
    assert not WorkerHeartbeat.objects.exists()  # a clean stop removes its heartbeat


def _running_task(interview_id, worker_id, started_ago=0.0):
    from media_export.tasks import export_interview_task

    result = export_interview_task.enqueue(interview_id)
    task = DBTaskResult.objects.get(id=result.id)
    task.claim(worker_id)
    DBTaskResult.objects.filter(id=task.id).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    MediaExport.objects.update_or_create(
        interview_id=interview_id, defaults={"status": "running", "task_id": str(task.id)}
    )
    return task


def test_rescue_requeues_only_tasks_of_dead_workers(interview):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="alive", last_seen=now)
    WorkerHeartbeat.objects.create(worker_id="dead", last_seen=now - timedelta(minutes=5))
    other, _ = create_interview(job_title="Eng", candidate_name="D", candidate_email="d@x.io")
    third, _ = create_interview(job_title="Eng", candidate_name="E", candidate_email="e@x.io")
    dead = _running_task(interview.pk, "dead")
    alive = _running_task(other.pk, "alive")
    unknown = _running_task(third.pk, "plain-db-worker", started_ago=60)

    rescued = rescue_orphaned_tasks(stale_seconds=30, unknown_seconds=3600)
    assert rescued == [str(dead.id)]
    dead.refresh_from_db()
    alive.refresh_from_db()
    unknown.refresh_from_db()
    assert dead.status == "READY" and alive.status == "RUNNING" and unknown.status == "RUNNING"
    assert MediaExport.objects.get(pk=interview.pk).status == "queued"
    assert MediaExport.objects.get(pk=other.pk).status == "running"
    # A task whose unknown worker has been silent far too long is presumed dead too.
    assert rescue_orphaned_tasks(stale_seconds=30, unknown_seconds=10) == [str(unknown.id)]


def test_rescue_gives_up_after_repeated_deaths(interview):
    task = _running_task(interview.pk, "w1")
    DBTaskResult.objects.filter(id=task.id).update(worker_ids=["w1", "w2", "w3"])
    assert rescue_orphaned_tasks(stale_seconds=30, unknown_seconds=0) == []
    task.refresh_from_db()
    assert task.status == "FAILED"
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "failed" and "died 3 times" in export.error


SETUP = r"""
import django, os, shutil, sys
django.setup()
from interviews.services import create_interview
from media_export.services import register_upload
from media_export.spool import SpoolWriter
import numpy as np
interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
voice = np.fromfile(sys.argv[1], dtype="<i2")
with SpoolWriter(interview.pk, "s1") as w:
    w.recording_started(5.0)
    for i in range(0, len(voice), 2400):
        w.add_mic(i // 2400, 5.0 + i / 24000, voice[i : i + 2400].tobytes())
tmp = sys.argv[2] + ".copy"
shutil.copy(sys.argv[2], tmp)
register_upload(interview, __import__("pathlib").Path(tmp), "mp4", "s1")
print(interview.pk)
"""


def _status(db_path, table, column, where=""):
    with sqlite3.connect(db_path, timeout=20) as conn:
        return [r[0] for r in conn.execute(f"SELECT {column} FROM {table} {where}")]


def test_export_job_killed_while_running_is_retried(tmp_path):
    """SIGKILL a worker in the middle of an export; a new worker finishes the job."""
    env = {
        **os.environ,
        "SECRET_KEY": "t",
        "DEBUG": "",
        "DATABASE_URL": "",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "MIX_WAIT_SECONDS": "120",
        "LOG_LEVEL": "INFO",
    }
    (tmp_path / "var").mkdir()
    db_path = tmp_path / "var" / "db.sqlite3"
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    voice = speechlike(3.0, seed=5)
    voice.tofile(tmp_path / "voice.pcm")
    video = make_video(
        tmp_path / "v.mp4", write_wav(tmp_path / "v.wav", voice), codec="h264", seconds=3.5
    )
    out = subprocess.run(
        [sys.executable, "-c", SETUP, str(tmp_path / "voice.pcm"), str(video)],
        env={**env, "DJANGO_SETTINGS_MODULE": "interviewsite.settings"},
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    interview_id = int(out.stdout.strip().splitlines()[-1])

    worker = subprocess.Popen(
        [
            *manage,
            "run_export_worker",
            "--no-startup-delay",
            "--interval",
            "0.1",
            "--heartbeat-seconds",
            "0.5",
            "--stale-seconds",
            "2",
            "--worker-id",
            "doomed",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(db_path, "media_export_mediaexport", "status") != ["running"]:
            assert time.monotonic() < deadline, "the worker never started the export"
            time.sleep(0.1)
        time.sleep(0.5)  # it is now waiting for the session's end
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert _status(db_path, "django_tasks_database_dbtaskresult", "status") == ["RUNNING"]

    # The session's end arrives while no worker is alive.
    index = tmp_path / "media" / "spool" / str(interview_id) / "s1" / "index.jsonl"
    with open(index, "a") as fh:
        fh.write('{"k":"end"}\n')
    time.sleep(2.5)  # the dead worker's heartbeat goes stale
    result = subprocess.run(
        [
            *manage,
            "run_export_worker",
            "--batch",
            "--no-startup-delay",
            "--stale-seconds",
            "2",
            "--worker-id",
            "rescuer",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Requeued 1 task" in result.stdout
    assert _status(db_path, "django_tasks_database_dbtaskresult", "status") == ["SUCCESSFUL"]
    assert _status(db_path, "django_tasks_database_dbtaskresult", "worker_ids") == [
        '["doomed", "rescuer"]'
    ]
    assert _status(db_path, "media_export_mediaexport", "status || ':' || attempts") == ["done:2"]
    assert (tmp_path / "media" / "uploads" / "videos" / f"{interview_id}.mp4").exists()


FFMPEG_CHILD = r"""
import django, sys
django.setup()
from media_export import ffmpeg
print("ready", flush=True)
ffmpeg.run(["-y", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
            "-t", "600", "-f", "null", "-"], what="a long job")
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_ffmpeg_dies_with_the_worker_that_ran_it():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "interviewsite.settings", "SECRET_KEY": "t"}
    worker = subprocess.Popen(
        [sys.executable, "-c", FFMPEG_CHILD], env=env, cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert worker.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while not (children := _children(worker.pid)):
            assert time.monotonic() < deadline, "FFmpeg never started"
            time.sleep(0.05)
    finally:
        worker.kill()
        worker.wait()
    ffmpeg_pid = children[0]
    deadline = time.monotonic() + 30
    while Path(f"/proc/{ffmpeg_pid}").exists() and _state(ffmpeg_pid) != "Z":
        assert time.monotonic() < deadline, "FFmpeg outlived its worker"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_rescued_task_leaves_no_temporary_files(interview, settings):
    from media_export.worker import remove_stale_temp_files

    videos, audio = settings.UPLOADS_VIDEOS_DIR, settings.UPLOADS_AUDIO_DIR
    videos.mkdir(parents=True)
    audio.mkdir(parents=True)
    pk = interview.pk
    stale = [
        videos / f".{pk}.k2j3.mp4.tmp",
        audio / f".{pk}_mixed.abcd.wav.tmp",
        videos / f".{pk}_x1.joining",
    ]
    fresh = audio / f".{pk}_mic.zzzz.wav.tmp"  # a live export is writing it
    other = videos / f".{pk + 1}.k2j3.mp4.tmp"
    kept = videos / f"{pk}.mp4"
    old = time.time() - 60
    for path in [*stale, fresh, other, kept]:
        path.write_bytes(b"x")
    for path in [*stale, other, kept]:
        os.utime(path, (old, old))

    assert sorted(remove_stale_temp_files(pk, 7.0)) == sorted(stale)
    assert all(p.exists() for p in (fresh, other, kept))


def test_the_rescued_task_of_a_dead_worker_loses_its_temp_files(interview, settings):
    videos = settings.UPLOADS_VIDEOS_DIR
    videos.mkdir(parents=True)
    leftover = videos / f".{interview.pk}.q1w2.mp4.tmp"
    leftover.write_bytes(b"half an mp4")
    old = time.time() - 60
    os.utime(leftover, (old, old))
    WorkerHeartbeat.objects.create(
        worker_id="dead", last_seen=timezone.now() - timedelta(seconds=8)
    )
    task = _running_task(interview.pk, "dead")
    assert rescue_orphaned_tasks() == [str(task.id)]  # silent 8 s: dead under the defaults
    assert not leftover.exists()
