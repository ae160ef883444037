"""``remix_interview ID``: rebuild the WAVs (and the MP4 when a video is in) from the spool alone."""

from django.core.management.base import BaseCommand, CommandError

from interviews.models import Interview
from media_export import exporting, services
from media_export.models import MediaExport
from media_export.stored_spool import session_names


class Command(BaseCommand):
    help = "Rebuild an interview's audio timeline and WAVs from its spool (and re-export)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("interview_id", type=int)
        parser.add_argument(
            "--no-export",
            action="store_true",
            help="Only rewrite the WAVs, even when a video was uploaded",
        )

    def handle(self, *, interview_id: int, no_export: bool, **options) -> None:
        if not Interview.objects.filter(pk=interview_id).exists():
            raise CommandError(f"Interview {interview_id} does not exist")
        sessions = session_names(interview_id)
        if not sessions:
            raise CommandError(f"Interview {interview_id} has no spool")
        self.stdout.write(f"Spool: {len(sessions)} session(s): " + ", ".join(sessions))
        export = services.get_export(interview_id)
        if export.video_upload and not no_export:
            self.stdout.write("A video was uploaded: re-running the export")
            try:
                status = exporting.run_export(
                    interview_id,
                    wait_seconds=0,
                    require_session_end=False,
                    require_all_audio=False,
                    progress=lambda msg: self.stdout.write(f"  {msg}"),
                )
            except Exception as exc:
                raise CommandError(f"Export failed: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"Export {status}"))
            return
        try:
            outcome = services.save_mixed_audio(interview_id)
        except Exception as exc:
            raise CommandError(f"Audio mixing failed: {exc}") from exc
        summary = outcome.summary
        self.stdout.write(
            f"Timeline: zero {outcome.zero:.3f} s ({outcome.basis}), {summary['duration']:.1f} s, "
            f"{summary['mic_chunks']} mic / {summary['ai_chunks']} AI chunks, "
            f"{summary['missing_telemetry']} without telemetry, {len(summary['cuts'])} cut(s)"
        )
        for name, path in outcome.paths.items():
            self.stdout.write(f"  {name}: {path}")
        if MediaExport.objects.filter(pk=interview_id, status="waiting_for_audio").exists():
            self.stdout.write("The export was waiting for this audio: it is queued again")
            services.mix_interview(interview_id)
        self.stdout.write(self.style.SUCCESS("Done"))
