import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from interviews.invitations import invitation_url
from interviews.services import ensure_demo_interview


class Command(BaseCommand):
    help = "Idempotently create the demo job, interview and admin user, and print the links."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--password-file",
            default="var/admin-password.txt",
            help="Where a generated admin password is kept so reruns can print it again.",
        )

    def handle(self, *args, **options):
        interview, _ = ensure_demo_interview()
        password = self._ensure_admin(options["password_file"])
        base = options["base_url"].rstrip("/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("interviewsite is ready"))
        self.stdout.write(f"  Candidate link : {invitation_url(interview, base)}")
        self.stdout.write(f"  Admin          : {base}/admin/  (user: admin, password: {password})")
        self.stdout.write(f"  Data Explorer  : {base}/admin/data-explorer")
        self.stdout.write("")

    def _ensure_admin(self, password_file: str) -> str:
        User = get_user_model()
        env_password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "").strip()
        user = User.objects.filter(username="admin").first()
        if env_password:
            password = env_password
        elif user is not None and os.path.exists(password_file):
            with open(password_file) as fh:
                password = fh.read().strip()
        else:
            password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser("admin", "admin@example.com", password)
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        if not env_password:
            os.makedirs(os.path.dirname(password_file) or ".", exist_ok=True)
            with open(password_file, "w") as fh:
                fh.write(password)
            os.chmod(password_file, 0o600)
        return password
