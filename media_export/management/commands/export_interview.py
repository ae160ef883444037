"""``export_interview ID``: run (or retry) an interview's MP4 export now, or queue it."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from interviews.models import Interview
from media_export import exporting, services


class Command(BaseCommand):
    help = "Export an interview's MP4 now (retries a failed export), or queue it with --enqueue"

    def add_arguments(self, parser) -> None:
        parser.add_argument("interview_id", type=int)
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the export for the worker instead of running it here",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            help="Seconds to wait for the session's end (default 0: use the spool as it is)",
        )

    def handle(self, *, interview_id: int, enqueue: bool, wait: float, **options) -> None:
        if not Interview.objects.filter(pk=interview_id).exists():
            raise CommandError(f"Interview {interview_id} does not exist")
        export = services.get_export(interview_id)
        if not export.video_upload:
            raise CommandError(f"Interview {interview_id} has no uploaded video")
        if enqueue:
            with transaction.atomic():
                task_id = services.enqueue_export(services.get_export(interview_id, lock=True))
            self.stdout.write(self.style.SUCCESS(f"Queued export task {task_id}"))
            return
        self.stdout.write(f"Exporting interview {interview_id} (attempt {export.attempts + 1})")
        try:
            status = exporting.run_export(
                interview_id,
                wait_seconds=wait,
                require_session_end=False,
                progress=lambda msg: self.stdout.write(f"  {msg}"),
            )
        except Exception as exc:
            raise CommandError(f"Export failed: {exc}") from exc
        export.refresh_from_db()
        interview = Interview.objects.get(pk=interview_id)
        self.stdout.write(self.style.SUCCESS(f"Export {status}: {interview.video_url}"))
        if export.measured_offset is not None:
            self.stdout.write(
                f"  video zero {export.measured_offset:.4f} s (recording_started "
                f"{export.recording_started_offset:.4f} s, confidence "
                f"{export.alignment_confidence:.2f}, used: {export.timeline_basis})"
            )
