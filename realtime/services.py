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

from interviews import services as interview_services
from interviews.models import Interview, TranscriptEntry

from .providers.base import HistoryEntry

start_interview = database_sync_to_async(interview_services.start_interview)
complete_interview = database_sync_to_async(interview_services.complete_interview)
fail_interview = database_sync_to_async(interview_services.fail_interview)
add_usage = database_sync_to_async(interview_services.add_usage)


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
    flag: str = "",
) -> bool:
    """Store one finished utterance; a repeated item is stored once. True when new."""
    try:
        with transaction.atomic():
            _entry, created = TranscriptEntry.objects.get_or_create(
                interview_id=interview_id,
                provider_item_id=item_id,
                role=role,
                defaults={"text": text, "start_seconds": start, "end_seconds": end, "flag": flag},
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
    return [HistoryEntry(e.role, e.text) for e in entries if e.text.strip()]
