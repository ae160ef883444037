"""Worker liveness and recovery of tasks orphaned by a dead worker.

django_tasks_db claims a task by setting it RUNNING and appending the worker
id; nothing ever revisits a RUNNING task, so one whose worker was killed
(SIGKILL, OOM, power loss) stays RUNNING forever. ``run_export_worker`` beats
a heartbeat row every few seconds and, before polling, puts back in the queue
every RUNNING task whose last claiming worker has stopped beating. The task
functions are idempotent, so running one again is safe.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .finalise import sweep
from .models import MediaExport, WorkerHeartbeat

logger = logging.getLogger("media_export")

# A worker silent for STALE_SECONDS is dead: its task is back in the queue within about
# STALE_SECONDS + HEARTBEAT_SECONDS (under 10 s) of its death.
HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 7.0
#: A RUNNING task claimed by a worker that never beat here (a plain ``db_worker``)
#: is only presumed dead after this long.
UNKNOWN_WORKER_SECONDS = 3600.0
MAX_ATTEMPTS = 3


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "last_seen": timezone.now(),
        },
    )


class Heartbeat:
    """A daemon thread that beats for ``worker_id`` and rescues orphans until stopped."""

    def __init__(
        self,
        worker_id: str,
        interval: float = HEARTBEAT_SECONDS,
        stale_seconds: float = STALE_SECONDS,
    ):
        self.worker_id = worker_id
        self.interval = interval
        self.stale_seconds = stale_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-heartbeat", daemon=True)

    def start(self) -> None:
        beat(self.worker_id)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    beat(self.worker_id)
                    rescue_orphaned_tasks(stale_seconds=self.stale_seconds)
                    sweep()  # interviews a dead web process left behind
                except Exception:  # a missed beat is not fatal; the next one may work
                    logger.exception("Worker heartbeat failed")
                    close_old_connections()
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 1)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


def rescue_orphaned_tasks(
    *,
    stale_seconds: float = STALE_SECONDS,
    unknown_seconds: float = UNKNOWN_WORKER_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[str]:
    """Requeue RUNNING tasks whose worker is gone; fail those that died too often."""
    now = timezone.now()
    alive = set(
        WorkerHeartbeat.objects.filter(
            last_seen__gte=now - timedelta(seconds=stale_seconds)
        ).values_list("worker_id", flat=True)
    )
    known = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    rescued: list[str] = []
    with transaction.atomic():
        for task in DBTaskResult.objects.running().select_for_update(skip_locked=True):
            last = task.worker_ids[-1] if task.worker_ids else ""
            if last in alive:
                continue
            if (
                last not in known
                and task.started_at
                and (now - task.started_at < timedelta(seconds=unknown_seconds))
            ):
                continue
            interview_id = _interview_of(task)
            if len(task.worker_ids) >= max_attempts:
                task.status = TaskResultStatus.FAILED
                task.finished_at = now
                task.exception_class_path = "media_export.worker.WorkerDied"
                task.traceback = f"worker died {len(task.worker_ids)} times running this task"
                task.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                if interview_id is not None:
                    MediaExport.objects.filter(pk=interview_id, task_id=str(task.id)).update(
                        status=MediaExport.Status.FAILED,
                        error=f"the export worker died {len(task.worker_ids)} times",
                        finished_at=now,
                        updated_at=now,
                    )
                logger.error(
                    "Task %s failed: its worker died %d times", task.id, len(task.worker_ids)
                )
                continue
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
            if interview_id is not None:
                MediaExport.objects.filter(
                    pk=interview_id, task_id=str(task.id), status=MediaExport.Status.RUNNING
                ).update(status=MediaExport.Status.QUEUED, updated_at=now)
            rescued.append(str(task.id))
            remove_stale_temp_files(_task_interview(task), stale_seconds)
            logger.warning(
                "Requeued task %s (%s): worker %s stopped while running it",
                task.id,
                task.task_path,
                last or "?",
            )
    WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return rescued


def _task_interview(task: DBTaskResult) -> int | None:
    """The interview a media task works on (any of them, for the temp-file cleanup)."""
    if not task.task_path.startswith("media_export.tasks."):
        return None
    args = (task.args_kwargs or {}).get("args") or []
    kwargs = (task.args_kwargs or {}).get("kwargs") or {}
    value = kwargs.get("interview_id", args[0] if args else None)
    return int(value) if isinstance(value, int) else None


def remove_stale_temp_files(interview_id: int | None, older_than: float) -> list[Path]:
    """Delete the temporary files a dead worker left for this interview.

    Only files untouched for ``older_than`` seconds: a live task's FFmpeg writes its file
    all the time, so another worker's export of the same interview is never disturbed.
    """
    if interview_id is None:
        return []
    cutoff = time.time() - older_than
    removed = []
    for directory in (Path(settings.UPLOADS_VIDEOS_DIR), Path(settings.UPLOADS_AUDIO_DIR)):
        if not directory.is_dir():
            continue
        for pattern in (
            f".{interview_id}.*.tmp",
            f".{interview_id}_*.tmp",
            f".{interview_id}_*.joining",
        ):
            for path in directory.glob(pattern):
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed.append(path)
                except OSError:
                    continue
    if removed:
        logger.warning("Removed %d temporary file(s) of interview %s", len(removed), interview_id)
    return removed


def _interview_of(task: DBTaskResult) -> int | None:
    if not task.task_path.startswith("media_export.tasks.export"):
        return None
    args = (task.args_kwargs or {}).get("args") or []
    kwargs = (task.args_kwargs or {}).get("kwargs") or {}
    value = kwargs.get("interview_id", args[0] if args else None)
    return int(value) if isinstance(value, int) else None
