"""The interview domain. Kept thin: behaviour lives in ``services.py`` and ``invitations.py``."""

from django.conf import settings
from django.db import models


class Job(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    interviewer_instructions = models.TextField(
        blank=True, help_text="How the AI interviewer should conduct this interview."
    )
    questions = models.JSONField(
        default=list, blank=True, help_text="Ordered list of questions, asked one per answer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["title"])]

    def __str__(self) -> str:
        return self.title


class Candidate(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidate",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Interview(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        EXPORTED = "exported", "Exported"
        FAILED = "failed", "Failed"

    class EndReason(models.TextChoices):
        """How the live part ended: staff tell a full interview from one cut short."""

        INTERVIEWER_FINISHED = "interviewer_finished", "Interviewer finished"
        CANDIDATE_ENDED = "candidate_ended", "Ended by the candidate"
        ABANDONED = "abandoned", "Candidate did not come back"
        PROVIDER_FAILED = "provider_failed", "AI interviewer unavailable"
        TIME_LIMIT = "time_limit", "Time limit reached"

    #: Interviews in these states can no longer be joined over the websocket.
    FINISHED_STATUSES = (Status.COMPLETED, Status.EXPORTED, Status.FAILED)

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="interviews")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="interviews")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVITED)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=30, choices=EndReason.choices, blank=True)
    failure_reason = models.TextField(
        blank=True, help_text="Why the interview failed, in words for staff."
    )
    video_url = models.CharField(max_length=500, blank=True)
    audio_paths = models.JSONField(default=dict, blank=True)
    latency = models.JSONField(
        default=dict, blank=True, help_text="Per-interview latency summary (p50/p95 per stage)."
    )
    usage = models.JSONField(
        default=dict,
        blank=True,
        help_text="AI usage summed over the interview (interviews/usage.py).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["job", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Interview #{self.pk} – {self.candidate.name} for {self.job.title}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES


class TranscriptEntry(models.Model):
    class Role(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        INTERVIEWER = "interviewer", "Interviewer"

    class Flag(models.TextChoices):
        """What is known to be missing from ``text``."""

        NONE = "", "–"
        INTERRUPTED = "interrupted", "Interrupted"  # the text is what the candidate heard
        INAUDIBLE = "inaudible", "Inaudible"  # speech recognition ran and failed
        NOT_TRANSCRIBED = "not_transcribed", "Not transcribed"  # recognition did not run

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="transcript")
    role = models.CharField(max_length=20, choices=Role.choices)
    text = models.TextField()
    flag = models.CharField(max_length=20, choices=Flag.choices, blank=True, default="")
    provider_item_id = models.CharField(max_length=100, blank=True)
    start_seconds = models.FloatField(
        null=True, blank=True, help_text="Start on the interview timeline (client clock)."
    )
    end_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Candidate transcriptions can arrive after the reply: order by speech start.
        # Rows without a start come last on every database, as in the provider's re-seed.
        ordering = [
            "interview",
            models.F("start_seconds").asc(nulls_last=True),
            "created_at",
            "id",
        ]
        indexes = [
            models.Index(fields=["interview", "start_seconds"]),
            models.Index(fields=["role"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "provider_item_id", "role"],
                condition=~models.Q(provider_item_id=""),
                name="unique_transcript_item_per_interview",
            )
        ]
        verbose_name_plural = "transcript entries"

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Review(models.Model):
    """A reviewer's judgement of one interview; each reviewer keeps one, changed in place."""

    class Decision(models.TextChoices):
        ADVANCE = "advance", "Advance"
        HOLD = "hold", "Hold"
        REJECT = "reject", "Reject"

    RATINGS = range(1, 6)

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="interview_reviews",
    )
    rating = models.PositiveSmallIntegerField(help_text="1 (poor) to 5 (excellent).")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["interview", "-updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "reviewer"], name="one_review_per_reviewer"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5, {self.get_decision_display()} – interview #{self.interview_id}"
