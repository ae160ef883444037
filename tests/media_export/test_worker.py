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


@pytest.fixture
def interview(db):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    return interview


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
