"""Database writes and reads of the live interview.

Plain synchronous ORM code run through Channels' ``database_sync_to_async``, which
closes stale connections around each call (a websocket lives far longer than a
request, so Django's per-request connection handling never runs for it).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from interviews.models import Interview, TranscriptEntry

from .providers.base import HistoryEntry


@database_sync_to_async
def mark_in_progress(interview: Interview) -> None:
    if interview.status == Interview.Status.IN_PROGRESS and interview.started_at:
        return
    interview.status = Interview.Status.IN_PROGRESS
    interview.started_at = interview.started_at or timezone.now()
    interview.save(update_fields=["status", "started_at", "updated_at"])


@database_sync_to_async
def mark_completed(interview_id: int) -> None:
    """Completed once the live part is over; never moves an exported/failed interview back."""
    Interview.objects.filter(
        pk=interview_id, status__in=[Interview.Status.INVITED, Interview.Status.IN_PROGRESS]
    ).update(status=Interview.Status.COMPLETED, ended_at=timezone.now(), updated_at=timezone.now())


@database_sync_to_async
def save_latency(interview_id: int, summary: dict) -> None:
    Interview.objects.filter(pk=interview_id).update(latency=summary, updated_at=timezone.now())


@database_sync_to_async
def save_transcript(
    interview_id: int,
    role: str,
    item_id: str,
    text: str,
    start: float | None,
    end: float | None,
) -> bool:
    """Store one finished utterance; a repeated item is stored once. True when new."""
    try:
        with transaction.atomic():
            _entry, created = TranscriptEntry.objects.get_or_create(
                interview_id=interview_id,
                provider_item_id=item_id,
                role=role,
                defaults={"text": text, "start_seconds": start, "end_seconds": end},
            )
    except IntegrityError:  # a concurrent writer stored the same item first
        return False
    return created


@database_sync_to_async
def update_transcript(interview_id: int, role: str, item_id: str, **fields) -> int:
    fields = {k: v for k, v in fields.items() if v is not None}
    if not fields:
        return 0
    return TranscriptEntry.objects.filter(
        interview_id=interview_id, role=role, provider_item_id=item_id
    ).update(**fields)


@database_sync_to_async
def load_history(interview_id: int) -> list[HistoryEntry]:
    """The conversation so far, in speaking order, to re-seed a new provider session."""
    entries = TranscriptEntry.objects.filter(interview_id=interview_id).order_by(
        F("start_seconds").asc(nulls_last=True), "created_at", "id"
    )
    return [HistoryEntry(e.role, e.text) for e in entries]
