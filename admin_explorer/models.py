"""Annotation work done by hired candidates. A ``Job`` is the project the work belongs to."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from interviews.models import Candidate, Job

from .expressions import CreationDay


class Tag(models.Model):
    """A label on a dataset; a real row so tag filters are indexed joins, not string matching."""

    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SavedView(models.Model):
    """A staff user's named explorer view: the page's query string, so its URL can be shared."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="explorer_views"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name")
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="datasets")
    title = models.CharField(max_length=200)
    tags = models.ManyToManyField(Tag, related_name="datasets", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["title"])]

    def __str__(self) -> str:
        return self.title


class Annotator(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField()
    candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotators"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotators",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name


class AnnotationTask(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    # ``job`` is the project; it is denormalised from the dataset so project filters and
    # sorts use one index on this table instead of a join.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="annotation_tasks")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tasks")
    annotator = models.ForeignKey(Annotator, on_delete=models.PROTECT, related_name="tasks")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    quality_rating = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0")), MaxValueValidator(Decimal("5.0"))],
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Every ordering ends in ``id`` so pagination is deterministic.
        ordering = ["-created_at", "-id"]
        indexes = [
            # Single-column indexes for the filters (job/annotator/dataset get theirs from the FK).
            models.Index(fields=["status", "id"], name="task_status_id_idx"),
            models.Index(fields=["quality_rating", "id"], name="task_rating_idx"),
            # The date indexes carry what a page under a date range is sorted or filtered
            # by, so sorting a month of tasks (or walking the updates under an annotator
            # filter) reads the index alone instead of one table row per match.
            models.Index(
                fields=[
                    "created_at",
                    "id",
                    "updated_at",
                    "status",
                    "quality_rating",
                    "annotator",
                    "name",
                ],
                name="task_created_idx",
            ),
            models.Index(
                fields=["updated_at", "id", "annotator", "job", "status"],
                name="task_updated_idx",
            ),
            models.Index(fields=["name", "id"], name="task_name_idx"),
            # Composites for the common "filter by X, newest first" paths. The project and
            # annotator ones carry the other two facet columns and the rating, so the facets
            # of such a list, and its sort by rating, are read from the index alone; the
            # annotator one also carries the status, so the annotator menu's probes under
            # a status filter never visit the table.
            models.Index(
                fields=["job", "created_at", "id", "annotator", "dataset", "quality_rating"],
                name="task_job_created_cover_idx",
            ),
            models.Index(
                fields=[
                    "annotator",
                    "created_at",
                    "id",
                    "job",
                    "dataset",
                    "quality_rating",
                    "status",
                    "updated_at",
                ],
                name="task_annot_cover_updated_idx",
            ),
            models.Index(fields=["status", "created_at", "id"], name="task_status_created_idx"),
            models.Index(fields=["dataset", "created_at", "id"], name="task_dataset_created_idx"),
            # Tag filters become dataset id lists; with status and a date range on top, this
            # index answers count, page ids and facet probes without reading the table
            # (project and annotator are carried for the checks and the facets).
            models.Index(
                fields=["dataset", "status", "created_at", "job", "annotator", "id"],
                name="task_dataset_status_idx",
            ),
            # A date range sorted by update time, name or status: one run per UTC day of
            # creation in that order, merged (``day_runs``); ids grow with creation time, so
            # no other index has a short path to page 1 of a month in these orders.
            *(
                models.Index(CreationDay("created_at"), column, "id", name=f"task_day_{short}_idx")
                for column, short in (
                    ("updated_at", "updated"),
                    ("name", "name"),
                    ("status", "status"),
                )
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quality_rating__isnull=True)
                | models.Q(quality_rating__gte=0, quality_rating__lte=5),
                name="task_quality_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaskTally(models.Model):
    """How many tasks each (project, dataset, status) group holds; see ``admin_explorer.tally``.

    Written only by the triggers of migration 0006, never by application code, and left out
    of fixtures (``routers.DerivedTablesRouter``). No foreign-key constraints: a group of a
    deleted project simply drops to zero with its tasks.
    """

    job = models.ForeignKey(Job, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    dataset = models.ForeignKey(
        Dataset, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AnnotationTask.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0006 creates the table together with its triggers
        db_table = "admin_explorer_tasktally"
        constraints = [
            models.UniqueConstraint(fields=["job", "dataset", "status"], name="task_tally_group")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.dataset_id}/{self.status}: {self.n}"


class AnnotatorTally(models.Model):
    """How many tasks each annotator holds in each status; see ``admin_explorer.tally``.

    Written only by the triggers of migration 0012 and left out of fixtures, like ``TaskTally``.
    """

    annotator = models.ForeignKey(
        Annotator, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AnnotationTask.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0012 creates the table together with its triggers
        db_table = "admin_explorer_annotatortally"
        constraints = [
            models.UniqueConstraint(fields=["annotator", "status"], name="annotator_tally_group")
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id}/{self.status}: {self.n}"


class DayTally(models.Model):
    """How many tasks were created on each UTC day in each status; see ``admin_explorer.tally``.

    Written only by the triggers of migration 0013 and left out of fixtures, like ``TaskTally``.
    """

    created_day = models.DateField()
    status = models.CharField(max_length=20, choices=AnnotationTask.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0013 creates the table together with its triggers
        db_table = "admin_explorer_daytally"
        constraints = [
            models.UniqueConstraint(fields=["created_day", "status"], name="day_tally_group")
        ]

    def __str__(self) -> str:
        return f"{self.created_day}/{self.status}: {self.n}"


class RatingTally(models.Model):
    """How many tasks hold each quality rating (-1: unrated) in each status; see
    ``admin_explorer.tally``. Written only by the triggers of migration 0014, like ``TaskTally``.
    """

    quality_rating = models.DecimalField(max_digits=2, decimal_places=1)
    status = models.CharField(max_length=20, choices=AnnotationTask.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0014 creates the table together with its triggers
        db_table = "admin_explorer_ratingtally"
        constraints = [
            models.UniqueConstraint(fields=["quality_rating", "status"], name="rating_tally_group")
        ]

    def __str__(self) -> str:
        return f"{self.quality_rating}/{self.status}: {self.n}"


class MonthTally(models.Model):
    """How many tasks each (project, dataset, status) group gained in each UTC month of
    creation; see ``admin_explorer.tally``. Written only by the triggers of migration 0015,
    like ``TaskTally``.
    """

    created_month = models.DateField()  # the month's first day
    job = models.ForeignKey(Job, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    dataset = models.ForeignKey(
        Dataset, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AnnotationTask.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0015 creates the table together with its triggers
        db_table = "admin_explorer_monthtally"
        constraints = [
            models.UniqueConstraint(
                fields=["created_month", "job", "dataset", "status"], name="month_tally_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_month:%Y-%m}/{self.job_id}/{self.dataset_id}/{self.status}: {self.n}"


class AnnotatorProjectTally(models.Model):
    """How many tasks each annotator holds in each project; see ``admin_explorer.tally``.
    Written only by the triggers of migration 0016, like ``TaskTally``.
    """

    job = models.ForeignKey(Job, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    annotator = models.ForeignKey(
        Annotator, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    n = models.BigIntegerField(default=0)

    class Meta:
        managed = False  # migration 0016 creates the table together with its triggers
        db_table = "admin_explorer_annotatorprojecttally"
        constraints = [
            models.UniqueConstraint(fields=["job", "annotator"], name="annotator_project_group")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.annotator_id}: {self.n}"


class FullTextMatch(models.Lookup):
    """``column MATCH query``: how an SQLite FTS5 table is asked to use its index."""

    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class FullTextField(models.TextField):
    """A column of an FTS5 table; supports ``__match``."""


FullTextField.register_lookup(FullTextMatch)


class TaskNameIndex(models.Model):
    """SQLite only: the FTS5 trigram index over task names that migration 0004 creates.

    Finds the tasks whose name contains a string of three or more characters without
    reading every name (PostgreSQL gets the same from a pg_trgm index in migration 0002).
    """

    task = models.OneToOneField(
        AnnotationTask,
        primary_key=True,
        db_column="rowid",
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    name = FullTextField()

    class Meta:
        managed = False
        db_table = "admin_explorer_task_name_fts"

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def phrase(text: str) -> str:
        """``text`` as one FTS5 phrase: with the trigram tokenizer, a case-insensitive substring."""
        return '"' + text.replace('"', '""') + '"'
