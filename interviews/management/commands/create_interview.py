from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from interviews.invitations import invitation_url
from interviews.services import create_interview


class Command(BaseCommand):
    help = "Create a job, candidate and interview as needed, and print the invitation link."

    def add_arguments(self, parser):
        parser.add_argument("--job", required=True, help="Job title (created when missing).")
        parser.add_argument("--candidate-name", required=True)
        parser.add_argument("--candidate-email", required=True)
        parser.add_argument(
            "--question", action="append", default=[], help="A question for a new job; repeatable."
        )
        parser.add_argument(
            "--instructions", default="", help="Interviewer instructions for a new job."
        )
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Prefix for the printed link."
        )

    def handle(self, *args, **options):
        try:
            validate_email(options["candidate_email"])
        except ValidationError as exc:
            raise CommandError(
                f"Invalid --candidate-email: {options['candidate_email']!r}"
            ) from exc
        interview, created = create_interview(
            job_title=options["job"],
            candidate_name=options["candidate_name"],
            candidate_email=options["candidate_email"],
            questions=options["question"],
            instructions=options["instructions"],
        )
        verb = "Created" if created else "Reusing"
        self.stderr.write(
            f"{verb} interview #{interview.pk} ({interview.job.title}, {interview.candidate.email})"
        )
        days = settings.INVITATION_MAX_AGE_SECONDS / 86400
        self.stderr.write(f"The link is valid for {days:g} days.")
        self.stdout.write(invitation_url(interview, options["base_url"]))
