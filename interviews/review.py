"""What a reviewer reads about an interview, and the review they leave.

The admin's interview page and list call these plain functions; they know nothing about
the recording pipeline. Times on the review page are seconds of the MP4, which starts at the
recording's zero on the interview's client clock (``zero``, supplied by whoever knows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from . import usage
from .models import Interview, Review, TranscriptEntry

Status = Interview.Status
EndReason = Interview.EndReason

#: How ``Interview.latency`` names its figures, in the order a reader follows a turn.
LATENCY_FIGURES = [
    ("end_of_turn_ms", "End of turn detected"),
    ("first_audio_ms", "First reply audio"),
    ("playback_start_ms", "Reply reached the browser"),
    ("voice_to_voice_ms", "Voice to voice"),
]


# -- the review ----------------------------------------------------------------


class ReviewForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in Review.RATINGS],
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1 poor, 5 excellent.",
    )
    decision = forms.ChoiceField(choices=Review.Decision.choices, widget=forms.RadioSelect)

    class Meta:
        model = Review
        fields = ["rating", "decision", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


def save_review(
    *, interview: Interview, reviewer, rating: int, decision: str, notes: str = ""
) -> Review:
    """Store ``reviewer``'s judgement; saving again replaces their earlier one (time updated)."""
    review, _ = Review.objects.update_or_create(
        interview=interview,
        reviewer=reviewer,
        defaults={"rating": rating, "decision": Review.Decision(decision), "notes": notes},
    )
    return review


def reviews_of(interview: Interview) -> QuerySet[Review]:
    return interview.reviews.select_related("reviewer").order_by("-updated_at", "-id")


# -- the interview list -----------------------------------------------------------


def with_list_figures(queryset: QuerySet[Interview]) -> QuerySet[Interview]:
    """Adds ``answer_count`` and the latest review's ``review_rating``/``review_decision``."""
    latest = Review.objects.filter(interview=OuterRef("pk")).order_by("-updated_at", "-id")
    return queryset.annotate(
        answer_count=Count("transcript", filter=Q(transcript__role=TranscriptEntry.Role.CANDIDATE)),
        review_rating=Subquery(latest.values("rating")[:1]),
        review_decision=Subquery(latest.values("decision")[:1]),
    )


def duration(interview: Interview) -> timedelta | None:
    if interview.started_at is None or interview.ended_at is None:
        return None
    return max(interview.ended_at - interview.started_at, timedelta(0))


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(round(value.total_seconds()), 60)
    return f"{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Outcome:
    label: str
    detail: str
    kind: str  # "complete", "early", "failed", "open": the list and the page style by it


def outcome(interview: Interview) -> Outcome:
    """How the interview ended, so one cut short never looks like a complete one."""
    status = interview.get_status_display()
    if interview.status == Status.FAILED:
        return Outcome("Failed", interview.failure_reason or status, "failed")
    if interview.status in (Status.INVITED, Status.IN_PROGRESS):
        return Outcome(status, "", "open")
    if interview.end_reason in ("", EndReason.INTERVIEWER_FINISHED):
        return Outcome("Complete", status, "complete")
    return Outcome("Ended early", interview.get_end_reason_display(), "early")


# -- the review page ---------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    role: str
    speaker: str
    text: str
    flag: str
    at: float | None  # seconds into the MP4, None when the entry has no start time
    until: float | None

    @property
    def clock(self) -> str:
        return clock(self.at)


def clock(seconds: float | None) -> str:
    """Seconds into the recording as m:ss, the way the player shows time."""
    if seconds is None:
        return "–"
    minutes, rest = divmod(int(max(seconds, 0.0)), 60)
    return f"{minutes}:{rest:02d}"


def transcript_lines(interview: Interview, *, zero: float = 0.0) -> list[Line]:
    """The transcript in speaking order, each line placed on the MP4's time."""

    def media_time(value: float | None) -> float | None:
        return None if value is None else round(max(value - zero, 0.0), 3)

    entries = interview.transcript.order_by("start_seconds", "created_at", "id")
    return [
        Line(
            role=entry.role,
            speaker=entry.get_role_display(),
            text=entry.text,
            flag=entry.get_flag_display() if entry.flag else "",
            at=media_time(entry.start_seconds),
            until=media_time(entry.end_seconds),
        )
        for entry in entries
    ]


def latency_rows(interview: Interview) -> list[dict]:
    """``Interview.latency``'s figures as table rows; empty when nothing was measured."""
    summary = interview.latency or {}
    rows = []
    for key, label in LATENCY_FIGURES:
        figure = summary.get(key)
        if isinstance(figure, dict) and figure.get("n"):
            rows.append(
                {
                    "label": label,
                    "p50": figure.get("p50"),
                    "p95": figure.get("p95"),
                    "n": figure["n"],
                }
            )
    return rows


def usage_rows(interview: Interview) -> list[tuple[str, object]]:
    """Token usage and estimated cost, when the interview records them; else nothing."""
    if not interview.usage:
        return []
    rows: list[tuple[str, object]] = [
        (name.replace("_", " ").capitalize(), interview.usage.get(name, 0))
        for name in usage.COUNTERS
        if interview.usage.get(name)
    ]
    cost = usage.estimated_cost(interview.usage, settings.OPENAI_PRICES)
    rows.append(("Estimated cost (USD)", f"{cost:.4f}"))
    return rows
