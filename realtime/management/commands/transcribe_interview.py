"""``transcribe_interview ID``: transcribe an interview's candidate turns again from its spool."""

from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from interviews.models import Interview
from media_export.spool import session_dirs
from realtime.transcription import Transcriber
from realtime.transcription.models import CHOICES
from realtime.transcription.service import config_from_settings
from realtime.transcription.spool_turns import retranscribe


class Command(BaseCommand):
    help = (
        "Transcribe an interview's candidate turns again from the audio spool: turns left "
        "untranscribed, or all of them after a model change"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("interview_id", type=int)
        parser.add_argument(
            "--only-untranscribed",
            action="store_true",
            help="Only entries flagged not transcribed or inaudible",
        )
        parser.add_argument(
            "--model",
            choices=[c for c in CHOICES if c != "off"],
            help="Use this model instead of TRANSCRIPTION for this run",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show, change nothing")

    def handle(self, *, interview_id, only_untranscribed, model, dry_run, **options) -> None:
        if not Interview.objects.filter(pk=interview_id).exists():
            raise CommandError(f"Interview {interview_id} does not exist")
        if not session_dirs(interview_id):
            raise CommandError(f"Interview {interview_id} has no spool")
        config = config_from_settings()
        if model:
            config = replace(config, choice=model, model_dir=None)
        if config.choice == "off":
            raise CommandError("Speech-to-text is off (TRANSCRIPTION=off); choose --model")
        transcriber = Transcriber(replace(config, queue_limit=1))
        try:
            if not transcriber.wait_ready():
                raise CommandError(transcriber.unavailable_reason)
            self.stdout.write(f"Model: {transcriber.model_label}")
            outcomes, missing = retranscribe(
                interview_id,
                transcriber,
                only_untranscribed=only_untranscribed,
                dry_run=dry_run,
                progress=self._show,
            )
        finally:
            transcriber.close()
        changed = sum(o.changed for o in outcomes)
        for entry in missing:
            self.stdout.write(
                self.style.WARNING(
                    f"  entry {entry.pk} ({entry.provider_item_id}): no audio in the spool"
                )
            )
        verb = "would change" if dry_run else "updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(outcomes)} turn(s) transcribed, {changed} {verb}, "
                f"{len(outcomes) - changed} unchanged, {len(missing)} without audio"
            )
        )

    def _show(self, outcome) -> None:
        mark = "*" if outcome.changed else "="
        self.stdout.write(f"{mark} {outcome.item_id}: {outcome.old_text!r} → {outcome.new_text!r}")
