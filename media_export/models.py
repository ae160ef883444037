"""The export record: user-facing state of an interview's recording pipeline.

The task backend keeps its own rows (``django_tasks_db``); this record is what
the candidate's page, the admin and the operators read.
"""

from django.db import models

from interviews.models import Interview


class MediaExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        WAITING_FOR_AUDIO = "waiting_for_audio", "Waiting for audio"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    interview = models.OneToOneField(
        Interview, on_delete=models.CASCADE, related_name="media_export", primary_key=True
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    # The uploaded recording (server-chosen name under MEDIA_ROOT) and its session.
    video_upload = models.CharField(max_length=300, blank=True)
    video_session_id = models.CharField(max_length=100, blank=True)
    video_codec = models.CharField(max_length=40, blank=True)
    no_video_reason = models.TextField(
        blank=True, help_text="Why the MP4 shows a still frame over the audio (no video arrived)."
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)

    # Audio side: the session whose end was reported, and the last mix.
    audio_session_id = models.CharField(max_length=100, blank=True)
    session_ended_at = models.DateTimeField(null=True, blank=True)
    mixed_at = models.DateTimeField(null=True, blank=True)
    exported_session_end = models.DateTimeField(
        null=True, blank=True, help_text="The session end whose audio the last export used."
    )
    mix_error = models.TextField(blank=True)

    # Timeline: client-clock seconds of sample 0 of the WAVs, and how it was chosen.
    timeline_basis = models.CharField(max_length=30, blank=True)
    timeline_zero = models.FloatField(null=True, blank=True)
    recording_started_offset = models.FloatField(
        null=True, blank=True, help_text="recording_started on the client clock (s)."
    )
    measured_offset = models.FloatField(
        null=True, blank=True, help_text="Video's first frame on the client clock, measured (s)."
    )
    alignment_confidence = models.FloatField(null=True, blank=True)
    timeline = models.JSONField(
        default=dict, blank=True, help_text="Speech segments, cuts and turn latencies."
    )
    segment_timeline = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Where each recording segment landed in the MP4: segment, session_id, start, end "
            "(seconds of the MP4), alignment (measured or its basis), confidence."
        ),
    )

    alignment_stretches = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "The recording followed against the mic: each stretch between steps with start, "
            "end (seconds of the recording), zero (client clock), shift_ms (against the first), "
            "confidence, windows, and what moved at its step (cause). One row: no step."
        ),
    )

    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"Export of interview #{self.interview_id}: {self.status}"

    @property
    def alignment_source(self) -> str:
        """Where the WAVs' zero came from: the measured video zero or the browser's estimate."""
        if self.timeline_basis != "video":
            return self.timeline_basis or ""
        if self.measured_offset is not None and self.timeline_zero == self.measured_offset:
            return "measured"
        return "recording_started"

    @property
    def alignment_correction_ms(self) -> float | None:
        if self.measured_offset is None or self.recording_started_offset is None:
            return None
        return (self.measured_offset - self.recording_started_offset) * 1000.0


class WorkerHeartbeat(models.Model):
    """Liveness of ``run_export_worker`` processes, so orphaned tasks can be found.

    django_tasks_db marks a claimed task RUNNING and never looks at it again; a
    worker killed mid-task leaves it RUNNING forever. Workers beat here, and a
    task whose claiming worker stopped beating is put back in the queue.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class SpoolSegment(models.Model):
    """One piece of a node's audio spool, shipped to the media storage.

    A node appends a session's audio to its local spool and ships what is new as a
    sealed segment: periodically, and when the session ends or moves. These rows are
    the index every node and the export worker read: which segments exist (an export
    fails if one is missing from storage) and in which order they join up.
    """

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="+")
    session_id = models.CharField(max_length=100)
    writer = models.CharField(max_length=32, help_text="The node-local spool it came from.")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=300, help_text="Object name in the media storage.")
    size = models.BigIntegerField()
    opened_at = models.FloatField(help_text="Wall time the writer's spool was opened.")
    index_start = models.BigIntegerField()
    index_end = models.BigIntegerField()
    mic_start = models.BigIntegerField()
    mic_end = models.BigIntegerField()
    ai_start = models.BigIntegerField()
    ai_end = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "session_id", "writer", "number"], name="unique_spool_segment"
            )
        ]

    def __str__(self) -> str:
        return f"Spool segment {self.name}"
