"""seed_explorer: realistic skew, valid values, repeatable, and --if-empty is idempotent."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from admin_explorer.models import AnnotationTask, Annotator, Dataset


def seed(*args):
    out, err = StringIO(), StringIO()
    call_command("seed_explorer", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_seed_creates_skewed_valid_data():
    out, err = seed("--tasks", "5000", "--seed", "3")
    assert "Seeded 5,000 tasks" in out
    assert "100%" in err  # progress bar
    assert AnnotationTask.objects.count() == 5000
    tasks = AnnotationTask.objects.all()

    per_project = sorted(
        tasks.values("job").annotate(n=Count("id")).values_list("n", flat=True), reverse=True
    )
    assert per_project[0] > 3 * per_project[-1]  # a few big projects
    per_annotator = sorted(
        tasks.values("annotator").annotate(n=Count("id")).values_list("n", flat=True), reverse=True
    )
    assert per_annotator[0] > 5 * per_annotator[len(per_annotator) // 2]  # Zipf-like

    ratings = [r for r in tasks.values_list("quality_rating", flat=True) if r is not None]
    assert all(Decimal("0") <= r <= Decimal("5") for r in ratings)
    good = [
        r for r in tasks.filter(status="approved").values_list("quality_rating", flat=True) if r
    ]
    good.sort()
    assert Decimal("3.5") <= good[len(good) // 2] <= Decimal("4.5")
    assert not tasks.filter(status__in=["pending", "in_progress"], quality_rating__isnull=False)
    assert not tasks.filter(status="pending", submitted_at__isnull=False)

    created = sorted(tasks.values_list("created_at", flat=True))
    assert (created[-1] - created[0]).days > 600  # two years of dates
    assert not tasks.filter(updated_at__lt=models_f("created_at"))

    statuses = Counter(tasks.values_list("status", flat=True))
    assert set(statuses) == {s.value for s in AnnotationTask.Status}
    assert all(d.tags.exists() for d in Dataset.objects.all())
    # Every task's project is its dataset's project.
    assert not tasks.exclude(job=models_f("dataset__job"))


def models_f(name):
    from django.db.models import F

    return F(name)


@pytest.mark.django_db
def test_same_seed_same_data():
    seed("--tasks", "300", "--seed", "9")
    first = list(
        AnnotationTask.objects.order_by("id").values_list("name", "status", "quality_rating")
    )
    AnnotationTask.objects.all().delete()
    Annotator.objects.all().delete()
    seed("--tasks", "300", "--seed", "9")
    again = list(
        AnnotationTask.objects.order_by("id").values_list("name", "status", "quality_rating")
    )
    assert first == again


@pytest.mark.django_db
def test_tasks_are_written_in_creation_order():
    """As a live table fills: a later id is never an earlier task, so a read in creation
    order (the export's) walks the table in its own order."""
    seed("--tasks", "3000", "--seed", "5")
    by_creation = list(
        AnnotationTask.objects.order_by("created_at", "id").values_list("id", flat=True)
    )
    assert by_creation == sorted(by_creation)


@pytest.mark.django_db
def test_if_empty_does_not_duplicate():
    seed("--tasks", "200", "--seed", "1", "--if-empty")
    out, _ = seed("--tasks", "200", "--seed", "1", "--if-empty")
    assert "nothing seeded" in out
    assert AnnotationTask.objects.count() == 200
    seed("--tasks", "50", "--seed", "2")  # without the flag it adds
    assert AnnotationTask.objects.count() == 250


@pytest.mark.django_db
def test_rejects_non_positive_task_count():
    with pytest.raises(CommandError, match="at least 1"):
        seed("--tasks", "0")
    assert AnnotationTask.objects.count() == 0


def task_indexes() -> list[tuple[str, str]]:
    from django.db import connection

    from admin_explorer import bulk

    with connection.cursor() as cursor:
        return sorted(bulk._secondary_indexes(cursor))


def planner_knows_task_rows() -> bool:
    """Whether the planner's statistics describe the task table (gathered after the load)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'admin_explorer_annotationtask'::regclass"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'admin_explorer_annotationtask'"
            )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_a_load_into_an_empty_table_builds_the_same_indexes_after_it():
    from admin_explorer.selectors import task_ids_with_name

    before = task_indexes()
    assert len(before) >= 12  # the model's indexes, the foreign keys' and the trigram one
    seed("--tasks", "2000", "--seed", "4")
    assert task_indexes() == before
    assert planner_knows_task_rows()
    named = sorted(t.pk for t in AnnotationTask.objects.all() if "label intent 1" in t.name.lower())
    assert sorted(task_ids_with_name("Label intent 1")) == named


@pytest.mark.django_db
def test_a_failed_load_still_leaves_every_index():
    from admin_explorer import bulk

    before = task_indexes()
    with pytest.raises(RuntimeError), bulk.indexes_built_after():
        assert task_indexes() == []
        raise RuntimeError("load failed")
    assert task_indexes() == before


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL keeps old row versions in place"
)
@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_leaves_the_tallies_compact(monkeypatch):
    """Each batch of a load rewrites every tally group it touches, and each rewrite leaves
    the old row version behind: after 500 batches (10M tasks) the 300 rows of the task tally
    filled 150 pages, and every count read them all. VACUUM frees that space but keeps the
    pages; the load ends with the tallies rewritten compactly."""
    from admin_explorer import seeding, tally

    monkeypatch.setattr(seeding, "BATCH", 500)  # each batch touches most groups
    seeding.seed(8_000, seed_value=6)
    with connection.cursor() as cursor:
        for kept in tally.TALLIES:
            cursor.execute(f"CREATE TEMP TABLE compact AS SELECT * FROM {kept.table}")
            cursor.execute(f"SELECT pg_relation_size('{kept.table}'), pg_relation_size('compact')")
            size, compact = cursor.fetchone()
            assert size <= compact + 8192, (kept.table, size, compact)
            cursor.execute("DROP TABLE compact")
