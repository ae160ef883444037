"""The task tally stays equal to a fresh count of the tasks, whatever writes them.

The explorer shows its counts and its project and tag menus from the tally whenever the
filters allow, so a tally off by one would be a wrong number on the page. Every way of
writing tasks is checked against ``GROUP BY`` over the task table itself.
"""

import datetime as dt
import json
import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from admin_explorer import bulk, seeding, selectors, tally
from admin_explorer.models import (
    AnnotationTask,
    AnnotatorProjectTally,
    AnnotatorTally,
    Dataset,
    DayTally,
    MonthTally,
    RatingTally,
    TaskTally,
)
from interviews.models import Job

from .conftest import fetch, resolve


def counted() -> Counter:
    """Tasks per (project, dataset, status), counted from the task table."""
    return Counter(AnnotationTask.objects.values_list("job_id", "dataset_id", "status"))


def tallied() -> Counter:
    return Counter(
        {
            (job, dataset, status): n
            for job, dataset, status, n in TaskTally.objects.values_list(
                "job_id", "dataset_id", "status", "n"
            )
            if n
        }
    )


def counted_by_annotator() -> Counter:
    return Counter(AnnotationTask.objects.values_list("annotator_id", "status"))


def tallied_by_annotator() -> Counter:
    return Counter(
        {
            (annotator, status): n
            for annotator, status, n in AnnotatorTally.objects.values_list(
                "annotator_id", "status", "n"
            )
            if n
        }
    )


def counted_by_day() -> Counter:
    return Counter(
        (created.astimezone(dt.UTC).date(), status)
        for created, status in AnnotationTask.objects.values_list("created_at", "status")
    )


def tallied_by_day() -> Counter:
    return Counter(
        {
            (day, status): n
            for day, status, n in DayTally.objects.values_list("created_day", "status", "n")
            if n
        }
    )


def counted_by_rating() -> Counter:
    return Counter(
        (-1 if rating is None else float(rating), status)
        for rating, status in AnnotationTask.objects.values_list("quality_rating", "status")
    )


def tallied_by_rating() -> Counter:
    rows = RatingTally.objects.values_list("quality_rating", "status", "n")
    return Counter({(float(rating), status): n for rating, status, n in rows if n})


def counted_by_month() -> Counter:
    return Counter(
        (created.astimezone(dt.UTC).date().replace(day=1), job, dataset, status)
        for created, job, dataset, status in AnnotationTask.objects.values_list(
            "created_at", "job_id", "dataset_id", "status"
        )
    )


def tallied_by_month() -> Counter:
    rows = MonthTally.objects.values_list("created_month", "job_id", "dataset_id", "status", "n")
    return Counter(
        {(month, job, dataset, status): n for month, job, dataset, status, n in rows if n}
    )


def counted_by_annotator_project() -> Counter:
    return Counter(AnnotationTask.objects.values_list("job_id", "annotator_id"))


def tallied_by_annotator_project() -> Counter:
    rows = AnnotatorProjectTally.objects.values_list("job_id", "annotator_id", "n")
    return Counter({(job, annotator): n for job, annotator, n in rows if n})


def assert_exact():
    """Every tally equals a fresh count, and their drift queries say so too."""
    assert tallied() == counted()
    assert tallied_by_annotator() == counted_by_annotator()
    assert tallied_by_day() == counted_by_day()
    assert tallied_by_rating() == counted_by_rating()
    assert tallied_by_month() == counted_by_month()
    assert tallied_by_annotator_project() == counted_by_annotator_project()
    with connection.cursor() as cursor:
        for kept in tally.TALLIES:
            cursor.execute(kept.drift(connection.vendor))
            assert cursor.fetchall() == []


def new_task(world, **fields) -> AnnotationTask:
    template = world.tasks[0]
    values = {
        "job": template.job,
        "dataset": template.dataset,
        "annotator": template.annotator,
        "name": "Tallied",
        **fields,
    }
    return AnnotationTask.objects.create(**values)


def test_the_fixture_is_tallied(world):
    assert sum(tallied().values()) == len(world.tasks) == 42
    assert_exact()


def test_single_writes_move_one_task_between_groups(world):
    task = new_task(world, status="pending")
    assert_exact()
    task.status = "approved"
    task.save()
    assert_exact()
    summit = world.datasets["Summit"]
    task.dataset, task.job = summit, summit.job
    task.save()
    assert_exact()
    task.name = "Renamed only"  # not a group column: nothing to do
    task.save()
    assert_exact()
    task.delete()
    assert_exact()


def test_bulk_statements_are_tallied(world):
    AnnotationTask.objects.filter(status="pending").update(status="in_review")
    assert_exact()
    AnnotationTask.objects.filter(dataset=world.datasets["Meadow"]).update(
        dataset=world.datasets["Harbor"]
    )
    assert_exact()
    moved = list(AnnotationTask.objects.filter(status="approved")[:5])
    for task in moved:
        task.status = "rejected"
    AnnotationTask.objects.bulk_update(moved, ["status"])
    assert_exact()
    AnnotationTask.objects.filter(annotator=world.annotators["Quinn"]).delete()
    assert_exact()


def test_deleting_a_project_empties_its_groups(world):
    apollo = world.jobs["Apollo"]
    Job.objects.filter(pk=apollo.pk).delete()  # cascades to datasets and tasks
    assert_exact()
    assert not TaskTally.objects.filter(job_id=apollo.pk, n__gt=0).exists()


def test_a_rolled_back_write_leaves_the_tally_as_it_was(world):
    before = tallied()
    with pytest.raises(RuntimeError), transaction.atomic():
        new_task(world, status="approved")
        AnnotationTask.objects.update(status="rejected")
        raise RuntimeError("request failed")
    assert tallied() == before
    assert_exact()


def test_seeding_in_bulk_is_tallied(db):
    seeding.seed(3_000, seed_value=5)
    assert sum(tallied().values()) == 3_000
    assert_exact()


def test_a_failed_bulk_insert_keeps_the_tally_trigger(world):
    def failing_insert():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), transaction.atomic(), connection.cursor() as cursor:
        bulk.insert_tasks(cursor, failing_insert)
    new_task(world)
    assert_exact()


postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL behaviour; SQLite has no TRUNCATE and one writer at a time",
)


@postgresql_only
def test_truncate_empties_the_tally_on_postgresql(world):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's deferred FK checks
        cursor.execute(f"TRUNCATE {tally.TASKS}")
    assert not TaskTally.objects.filter(n__gt=0).exists()
    assert_exact()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_one_group_lose_no_count():
    """Writers queue on the group's row; none of their increments is lost."""
    seeding.seed(50, seed_value=2)
    dataset = Dataset.objects.order_by("pk").first()
    annotator_id = AnnotationTask.objects.values_list("annotator_id", flat=True).first()

    def writer(number: int) -> None:
        try:
            for i in range(25):
                with transaction.atomic():
                    AnnotationTask.objects.create(
                        job_id=dataset.job_id,
                        dataset=dataset,
                        annotator_id=annotator_id,
                        name=f"Concurrent {number}-{i}",
                        status="submitted",
                    )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AnnotationTask.objects.filter(name__startswith="Concurrent").count() == 100
    assert_exact()


@pytest.mark.parametrize(
    "drifted", [TaskTally, AnnotatorTally, DayTally, RatingTally, MonthTally, AnnotatorProjectTally]
)
def test_rebuild_repairs_writes_that_went_around_the_triggers(world, drifted):
    drifted.objects.filter(pk__in=drifted.objects.order_by("pk").values("pk")[:2]).update(
        n=999  # as if restored from elsewhere
    )
    with pytest.raises(CommandError, match="tally groups differ"):
        call_command("rebuild_task_tally", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rebuild_task_tally", stdout=out)
    assert "Recounted 42 tasks into" in out.getvalue()
    assert "(annotator_id, status)" in out.getvalue()
    assert "had drifted" in out.getvalue() and "; 0 had drifted" not in out.getvalue()
    assert_exact()
    out = StringIO()
    call_command("rebuild_task_tally", "--check", stdout=out)
    assert "match the tasks" in out.getvalue()


def test_fixtures_leave_the_derived_tables_to_the_triggers(world, tmp_path):
    out = StringIO()
    call_command("dumpdata", "interviews", "admin_explorer", stdout=out)
    dump = json.loads(out.getvalue())
    dumped = {entry["model"] for entry in dump}
    assert "admin_explorer.annotationtask" in dumped
    assert not dumped & {
        "admin_explorer.tasktally",
        "admin_explorer.annotatortally",
        "admin_explorer.daytally",
        "admin_explorer.ratingtally",
        "admin_explorer.tasknameindex",
    }

    # A dump from before the router existed carries derived rows; loading must skip them.
    task = world.tasks[0]
    dump += [
        {
            "model": "admin_explorer.tasktally",
            "pk": 1,
            "fields": {"job": task.job_id, "dataset": task.dataset_id, "status": "x", "n": 7},
        },
        {"model": "admin_explorer.tasknameindex", "pk": task.pk, "fields": {"name": "Bogus"}},
    ]
    fixture = tmp_path / "explorer.json"
    fixture.write_text(json.dumps(dump))
    AnnotationTask.objects.all().delete()
    assert sum(tallied().values()) == 0
    call_command("loaddata", str(fixture), stdout=StringIO())
    assert AnnotationTask.objects.count() == 42
    assert_exact()
    assert set(selectors.task_ids_with_name("bogus")) == set()
    assert set(selectors.task_ids_with_name("lynx")) == {
        t.pk for t in world.tasks if "lynx" in t.name.lower()
    }


def task_counts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and tally.TASKS in q["sql"]
    ]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "approved,rejected"},
        {"tags": "audio"},
        {"tags": "pii,audio", "tags_mode": "any", "status": "pending"},
        {"project": "placeholder", "status": "in_review"},
        {"annotator": "placeholder"},
        {"annotator": "placeholder", "status": "approved,rejected,pending"},
        {"search": "rafferty"},  # an annotator's name only
        {"search": "rafferty", "status": "approved"},
        {"search": "meadow", "status": "approved"},  # a dataset only
        {"search": "apollo", "tags": "text"},  # a project only
        {"created_from": "2025-03-05"},
        {"created_from": "2025-03-11", "created_to": "2025-03-12", "status": "approved,pending"},
        {"created_to": "2025-03-11"},
        {"rating_min": "0"},
        {"rating_max": "3"},  # unrated tasks are not below 3
        {"rating_min": "2.5", "rating_max": "4", "status": "approved,rejected"},
        # Whole UTC months under project, tag and status filters: the month tally.
        {"project": "placeholder", "created_from": "2025-03-01", "created_to": "2025-03-31"},
        {"tags": "audio", "status": "approved,pending", "created_from": "2025-03-01"},
        {"search": "meadow", "created_to": "2025-02-28"},  # a dataset only
    ],
)
def test_counts_come_from_the_tally_while_the_filters_allow(staff_client, world, params):
    params = resolve(world, params)
    with CaptureQueriesContext(connection) as captured:
        body = fetch(staff_client, **params)
    assert task_counts(captured) == []
    assert body["count"] == len(fetch(staff_client, page_size=500, **params)["results"])


@pytest.mark.parametrize(
    "params",
    [
        {"rating_min": "4", "annotator": "placeholder"},
        {"created_from": "2025-03-11", "annotator": "placeholder"},
        {"created_from": "2025-03-11T05:00:00Z", "created_to": "2025-03-11T23:00:00Z"},
        {"annotator": "placeholder", "project": "placeholder"},
        {"search": "rafferty", "project": "placeholder"},
        {"search": "meadow", "annotator": "placeholder"},
    ],
)
def test_other_filters_count_the_tasks(staff_client, world, params):
    params = resolve(world, params)
    with CaptureQueriesContext(connection) as captured:
        body = fetch(staff_client, **params)
    assert len(task_counts(captured)) == 1
    assert body["count"] == len(fetch(staff_client, page_size=500, **params)["results"])


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "params",
    [
        {"created_from": "2025-03-11"},
        {"created_from": "2025-03-10", "created_to": "2025-03-12", "status": "approved,rejected"},
        {"created_from": "2025-03-10T13:30:00+00:00", "created_to": "2025-03-13T02:00:00+00:00"},
        {"created_to": "2025-03-11T07:00:00+00:00", "status": "pending"},
    ],
)
def test_date_counts_add_whole_days_from_the_tally_and_count_the_part_days(
    staff_client, world, settings, zone, params
):
    """A local day is not a UTC day: the part-days at the ends are counted from the tasks."""
    settings.TIME_ZONE = zone
    with CaptureQueriesContext(connection) as captured:
        body = fetch(staff_client, **params)
    assert len(task_counts(captured)) <= 1
    assert any(tally.DAYS.table in q["sql"] for q in captured.captured_queries)
    assert body["count"] == len(fetch(staff_client, page_size=500, **params)["results"])
    assert body["count"] > 0


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "params",
    [
        {"project": "placeholder", "created_from": "2025-02-15", "created_to": "2025-04-05"},
        {"tags": "audio", "status": "approved,rejected", "created_from": "2025-02-28"},
        {"tags": "pii,audio", "tags_mode": "any", "created_to": "2025-03-31T22:00:00+00:00"},
        {"search": "apollo", "created_from": "2025-03-01T00:00:00+00:00"},  # a project only
    ],
)
def test_dates_under_group_filters_add_whole_months_and_count_the_part_months(
    staff_client, world, settings, zone, params
):
    """Project, tags and status with a date range: whole UTC months from the month tally, the
    rest of the range counted from the tasks (at most one count of them)."""
    settings.TIME_ZONE = zone
    params = resolve(world, params)
    with CaptureQueriesContext(connection) as captured:
        body = fetch(staff_client, **params)
    assert len(task_counts(captured)) <= 1
    assert any(tally.MONTHS.table in q["sql"] for q in captured.captured_queries)
    assert body["count"] == len(fetch(staff_client, page_size=500, **params)["results"])
    assert body["count"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"project": "placeholder"},
        {"project": "placeholder", "annotator": "placeholder"},
    ],
)
def test_the_annotator_menu_under_project_filters_comes_from_the_tally(staff_client, world, params):
    """Under project (and annotator) filters the annotator menu lists the annotators with
    tasks in those projects, read from the annotator-project tally, not from the tasks."""
    params = resolve(world, params)
    with CaptureQueriesContext(connection) as captured:
        body = fetch(staff_client, **params)
    menu = [
        q["sql"] for q in captured.captured_queries if 'FROM "admin_explorer_annotator"' in q["sql"]
    ]
    assert len(menu) == 1 and tally.ANNOTATOR_PROJECTS.table in menu[0]
    assert tally.TASKS not in menu[0]
    projects = {int(p) for p in str(params["project"]).split(",")}
    expected = {t.annotator_id for t in world.tasks if t.job_id in projects}
    assert {a["id"] for a in body["facets"]["annotators"]} == expected
