"""Write-side operations on the interview domain."""

from __future__ import annotations

from django.db import transaction

from .models import Candidate, Interview, Job

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
