"""Fill the Data Explorer with synthetic projects, datasets, annotators and tasks."""

import time

from django.core.management.base import BaseCommand, CommandError

from admin_explorer import seeding
from admin_explorer.models import AnnotationTask


class Command(BaseCommand):
    help = "Create synthetic annotation data (skewed projects and annotators, two years of dates)."

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=2000, help="Number of tasks to create.")
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed (same seed, same data)."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when annotation tasks already exist (safe to run on every start).",
        )

    def handle(self, *args, tasks, seed, if_empty, **options):
        if tasks < 1:
            raise CommandError("--tasks must be at least 1.")
        if if_empty and AnnotationTask.objects.exists():
            self.stdout.write("Data Explorer already has tasks; nothing seeded.")
            return
        started = time.monotonic()
        result = seeding.seed(tasks, seed_value=seed, progress=self._progress)
        self.stderr.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.tasks:,} tasks over {result.jobs} projects, {result.datasets} datasets "
                f"and {result.annotators} annotators in {time.monotonic() - started:.1f}s."
            )
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        bar = "#" * filled + "." * (width - filled)
        self.stderr.write(
            f"\r  [{bar}] {done * 100 // total:3d}%  {done:,}/{total:,} tasks", ending=""
        )
        self.stderr.flush()
