"""Durable jobs on Django's Tasks API (django-tasks backport, database backend).

The functions stay thin: the work is in ``services`` and ``exporting``. Both run on the ``media``
queue; ``run_export_worker`` processes every queue.
"""

from __future__ import annotations

from django_tasks import task

from . import exporting, services


@task(queue_name="media")
def mix_interview_task(interview_id: int) -> dict | None:
    """Rebuild the three WAVs from the spool (after a session ended)."""
    outcome = services.mix_interview(interview_id)
    if outcome is None:
        return None
    return {"paths": outcome.paths, "basis": outcome.basis, "duration": outcome.summary["duration"]}


@task(queue_name="media", takes_context=True)
def export_interview_task(context, interview_id: int) -> str:
    """Align, write the WAVs on the video's timeline and mux the MP4."""
    return exporting.run_export(interview_id, task_id=str(context.task_result.id))


@task(queue_name="media")
def finalise_recording_task(interview_id: int) -> str:
    """The browser never came back: make the recording final with what arrived, export it."""
    from .finalise import finalise_recording

    return finalise_recording(interview_id)
