"""Write-side operations on the interview domain.

Every change of an interview's status goes through the functions under "Status"
below, so the allowed moves live in one place::

    invited → in_progress → completed → exported
    any state but exported → failed

Each is one conditional ``UPDATE``: safe when two processes race (the second finds
nothing to change) and never moves an interview backwards.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import usage as usage_counters
from .models import Candidate, Interview, Job

Status = Interview.Status

DEMO_JOB_TITLE = "Demo: Support Engineer"
DEMO_QUESTIONS = [
    "Tell me about a recent technical problem you solved for a customer.",
    "How do you decide what to do first when several urgent issues arrive at once?",
    "What would you like to learn in your next role?",
]
DEMO_INSTRUCTIONS = (
    "You are a friendly, concise interviewer. Ask one question at a time, "
    "listen to the full answer, and do not give feedback on answers."
)


@transaction.atomic
def create_interview(
    *,
    job_title: str,
    candidate_name: str,
    candidate_email: str,
    questions: list[str] | None = None,
    instructions: str = "",
    description: str = "",
) -> tuple[Interview, bool]:
    """Create the job, candidate and interview as needed.

    Returns ``(interview, created)``; an open (invited) interview of the same
    candidate for the same job is reused so the command is idempotent.
    """
    job, job_created = Job.objects.get_or_create(
        title=job_title,
        defaults={
            "questions": list(questions or []),
            "interviewer_instructions": instructions,
            "description": description,
        },
    )
    if not job_created and questions and not job.questions:
        job.questions = list(questions)
        job.save(update_fields=["questions", "updated_at"])
    candidate = Candidate.objects.filter(email__iexact=candidate_email).order_by("id").first()
    if candidate is None:
        candidate = Candidate.objects.create(name=candidate_name, email=candidate_email)
    existing = (
        Interview.objects.filter(job=job, candidate=candidate, status=Interview.Status.INVITED)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing, False
    return Interview.objects.create(job=job, candidate=candidate), True


def ensure_demo_interview() -> tuple[Interview, bool]:
    return create_interview(
        job_title=DEMO_JOB_TITLE,
        candidate_name="Demo Candidate",
        candidate_email="demo.candidate@example.com",
        questions=DEMO_QUESTIONS,
        instructions=DEMO_INSTRUCTIONS,
        description="A short practice interview with three questions.",
    )


# -- Status --------------------------------------------------------------------


def _move(interview_id: int, sources: tuple[str, ...], **fields) -> bool:
    now = timezone.now()
    changed = Interview.objects.filter(pk=interview_id, status__in=sources).update(
        **fields, updated_at=now
    )
    return bool(changed)


def start_interview(*, interview_id: int) -> bool:
    """The candidate connected: ``invited`` → ``in_progress`` (``started_at`` set once)."""
    now = timezone.now()
    started = _move(interview_id, (Status.INVITED,), status=Status.IN_PROGRESS, started_at=now)
    Interview.objects.filter(pk=interview_id, started_at__isnull=True).update(started_at=now)
    return started


def complete_interview(*, interview_id: int, end_reason: str) -> bool:
    """The live part is over: ``invited``/``in_progress`` → ``completed``."""
    return _move(
        interview_id,
        (Status.INVITED, Status.IN_PROGRESS),
        status=Status.COMPLETED,
        ended_at=timezone.now(),
        end_reason=Interview.EndReason(end_reason),
    )


def fail_interview(*, interview_id: int, reason: str, end_reason: str = "") -> bool:
    """The interview cannot complete; ``reason`` is shown to staff. Not after ``exported``."""
    fields = {"status": Status.FAILED, "failure_reason": reason[:2000]}
    if end_reason:
        fields["end_reason"] = Interview.EndReason(end_reason)
    changed = _move(interview_id, (Status.INVITED, Status.IN_PROGRESS, Status.COMPLETED), **fields)
    Interview.objects.filter(pk=interview_id, ended_at__isnull=True).update(ended_at=timezone.now())
    return changed


def mark_exported(*, interview_id: int, video_url: str) -> bool:
    """The recording is ready: ``completed`` (or a re-export) → ``exported``.

    A failed interview keeps its status (and reason); its ``video_url`` is still set,
    so staff can watch what was recorded.
    """
    changed = _move(
        interview_id,
        (Status.COMPLETED, Status.EXPORTED),
        status=Status.EXPORTED,
        video_url=video_url,
    )
    if not changed:
        Interview.objects.filter(pk=interview_id).update(
            video_url=video_url, updated_at=timezone.now()
        )
    return changed


# -- Usage ---------------------------------------------------------------------


@transaction.atomic
def add_usage(*, interview_id: int, counters: dict) -> None:
    """Add one response's or transcription's usage to the interview's totals."""
    if not counters:
        return
    interview = Interview.objects.select_for_update().filter(pk=interview_id).first()
    if interview is None:
        return
    interview.usage = usage_counters.added(interview.usage, counters)
    interview.save(update_fields=["usage", "updated_at"])
