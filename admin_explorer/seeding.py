"""Synthetic annotation data with a realistic skew, for demos and benchmarks.

A few projects hold most tasks, annotator activity follows a Zipf-like curve, ratings
cluster around 3.5-4.5 and creation dates span two years. Tasks are written in the order they
were created, as a live table receives them: ids grow with creation time, and so does the
rows' place on disk, which a read in creation order (the export) follows. They are written in
batches with raw inserts (``COPY`` on PostgreSQL): building a million model instances would
take minutes.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from interviews.models import Job

from . import bulk
from .models import AnnotationTask, Annotator, Dataset, Tag

PROJECT_TITLES = [
    "Speech transcription QA",
    "Customer support intent labelling",
    "Medical dictation review",
    "Search relevance rating",
    "Conversational AI red-teaming",
    "Code review annotation",
    "Product image captioning",
    "Legal clause extraction",
    "Sentiment analysis for reviews",
    "Multilingual translation checks",
    "Toxicity moderation",
    "Financial document parsing",
]
DATASET_KINDS = [
    "call recordings",
    "chat transcripts",
    "voice notes",
    "support tickets",
    "forum threads",
    "product photos",
    "contracts",
    "invoices",
    "model answers",
    "search queries",
]
TAGS = [
    "audio", "text", "image", "english", "german", "spanish", "french", "multilingual",
    "pii", "medical", "legal", "finance", "gold", "pilot", "long-form", "short-form",
    "noisy", "clean", "priority", "qa-sample", "synthetic", "customer", "internal", "archived",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tomasz",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Almeida", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
    "Jansen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn",
    "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Yilmaz", "Zhou",
]  # fmt: skip
TASK_VERBS = [
    "Transcribe clip",
    "Label intent",
    "Review turn",
    "Rate answer",
    "Tag sentiment",
    "Segment speakers",
    "Check translation",
    "Extract entities",
]
STATUSES = [s.value for s in AnnotationTask.Status]
STATUS_WEIGHTS = [0.10, 0.12, 0.13, 0.10, 0.45, 0.10]
RATED_FROM = {"submitted", "in_review", "approved", "rejected"}
BATCH = 20_000
TASK_COLUMNS = [
    "job_id",
    "dataset_id",
    "annotator_id",
    "name",
    "status",
    "quality_rating",
    "created_at",
    "updated_at",
    "submitted_at",
]


@dataclass
class SeedResult:
    jobs: int
    datasets: int
    annotators: int
    tasks: int


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def seed(
    tasks: int,
    seed_value: int = 0,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> SeedResult:
    rng = np.random.default_rng(seed_value)
    now = now or timezone.now()
    n_jobs = min(len(PROJECT_TITLES), max(4, round(tasks**0.2)))
    n_annotators = min(3000, max(12, tasks // 800))

    tag_rows = {t.name: t for t in Tag.objects.filter(name__in=TAGS)}
    Tag.objects.bulk_create([Tag(name=n) for n in TAGS if n not in tag_rows])
    tags = list(Tag.objects.filter(name__in=TAGS).order_by("name"))

    jobs = Job.objects.bulk_create(
        [
            Job(title=title, description=f"Annotation project: {title.lower()}.")
            for title in PROJECT_TITLES[:n_jobs]
        ]
    )
    datasets: list[Dataset] = []
    for job in jobs:
        for batch_no in range(int(rng.integers(3, 7))):
            kind = DATASET_KINDS[int(rng.integers(len(DATASET_KINDS)))]
            datasets.append(Dataset(job=job, title=f"{kind.capitalize()} batch {batch_no + 1}"))
    datasets = Dataset.objects.bulk_create(datasets)
    links = []
    for dataset in datasets:
        chosen = rng.choice(len(tags), size=int(rng.integers(1, 5)), replace=False)
        links += [Dataset.tags.through(dataset=dataset, tag=tags[i]) for i in sorted(chosen)]
    Dataset.tags.through.objects.bulk_create(links)

    annotators = Annotator.objects.bulk_create(
        [
            Annotator(
                name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7 + i // 26) % len(LAST_NAMES)]}",
                email=f"annotator{i + 1}.{seed_value}@example.com",
            )
            for i in range(n_annotators)
        ]
    )
    datasets_by_job = {job.pk: [] for job in jobs}
    for dataset in datasets:
        datasets_by_job[dataset.job_id].append(dataset.pk)

    job_ids = np.array([j.pk for j in jobs])
    job_weights = _zipf_weights(len(jobs), 1.3)
    annotator_ids = np.array([a.pk for a in rng.permutation(annotators)])
    annotator_weights = _zipf_weights(len(annotators), 1.05)

    with bulk.indexes_built_after():
        _write_tasks(
            rng,
            tasks,
            now,
            progress,
            job_ids,
            job_weights,
            datasets_by_job,
            annotator_ids,
            annotator_weights,
        )
    return SeedResult(len(jobs), len(datasets), len(annotators), tasks)


def _write_tasks(
    rng,
    tasks,
    now,
    progress,
    job_ids,
    job_weights,
    datasets_by_job,
    annotator_ids,
    annotator_weights,
) -> None:
    ratings = [Decimal(f"{i / 10:.1f}") for i in range(51)]
    ages = _creation_ages(rng, tasks)
    written = 0
    while written < tasks:
        size = min(BATCH, tasks - written)
        rows = _task_batch(
            rng,
            ages[written : written + size],
            written,
            now,
            job_ids,
            job_weights,
            datasets_by_job,
            annotator_ids,
            annotator_weights,
            ratings,
        )
        with transaction.atomic():
            _insert_tasks(rows)
        written += size
        if progress:
            progress(written, tasks)


def _creation_ages(rng, tasks: int) -> np.ndarray:
    """Every task's age in seconds, oldest first: two years back, denser towards the
    present (the team grew)."""
    ages = (1 - np.sqrt(rng.random(tasks))) * 730 * 86400
    ages[::-1].sort()
    return ages


def _task_batch(
    rng, age_seconds, offset, now, job_ids, job_w, datasets_by_job, ann_ids, ann_w, ratings
):
    size = len(age_seconds)
    jobs = rng.choice(job_ids, size=size, p=job_w)
    pick = rng.random(size)
    annotators = rng.choice(ann_ids, size=size, p=ann_w)
    statuses = rng.choice(len(STATUSES), size=size, p=STATUS_WEIGHTS)
    good = np.clip(rng.normal(4.0, 0.45, size), 0, 5)
    poor = np.clip(rng.normal(2.4, 0.8, size), 0, 5)
    unrated = rng.random(size) < 0.04
    work_seconds = rng.exponential(2 * 86400, size)
    review_seconds = rng.exponential(1 * 86400, size)
    verbs = rng.integers(len(TASK_VERBS), size=size)
    rejected = STATUSES.index("rejected")
    rows = []
    for i in range(size):
        status = STATUSES[statuses[i]]
        created = now - dt.timedelta(seconds=float(age_seconds[i]))
        submitted = updated = None
        rating = None
        if status in RATED_FROM:
            submitted = min(now, created + dt.timedelta(seconds=float(work_seconds[i])))
            updated = min(now, submitted + dt.timedelta(seconds=float(review_seconds[i])))
            if not unrated[i] and status != "submitted":
                value = poor[i] if statuses[i] == rejected else good[i]
                rating = ratings[round(float(value) * 10)]
        else:
            updated = min(now, created + dt.timedelta(seconds=float(work_seconds[i]) / 3))
        job_datasets = datasets_by_job[int(jobs[i])]
        dataset = job_datasets[int(pick[i] * len(job_datasets))]
        name = f"{TASK_VERBS[verbs[i]]} {offset + i + 1}"
        rows.append(
            (
                int(jobs[i]),
                dataset,
                int(annotators[i]),
                name,
                status,
                rating,
                created,
                updated,
                submitted,
            )
        )
    return rows


def _insert_tasks(rows: list[tuple]) -> None:
    table = AnnotationTask._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(TASK_COLUMNS)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        adapted = [
            (*row[:5], row[5], adapt(row[6]), adapt(row[7]), adapt(row[8]) if row[8] else None)
            for row in rows
        ]
        placeholders = ", ".join(["%s"] * len(TASK_COLUMNS))
        bulk.insert_tasks(
            cursor,
            lambda: cursor.executemany(
                f"INSERT INTO {table} ({', '.join(TASK_COLUMNS)}) VALUES ({placeholders})", adapted
            ),
        )
