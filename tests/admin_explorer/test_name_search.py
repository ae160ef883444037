"""Task-name search through the trigram indexes answers like a plain substring match.

On SQLite the names are looked up in an FTS5 table kept in step by triggers; on PostgreSQL
a pg_trgm index serves ``icontains``. Either way the rows must be those whose name contains
the text, whatever was inserted, renamed or deleted since, and whatever characters it holds.
"""

import pytest
from django.db import connection

from admin_explorer import selectors
from admin_explorer.models import AnnotationTask

from .conftest import all_ids


def matching(text: str) -> set[int]:
    return {
        pk
        for pk, name in AnnotationTask.objects.values_list("pk", "name")
        if text.lower() in name.lower()
    }


def searched(client, text: str) -> set[int]:
    return set(all_ids(client, search=text))


def test_the_index_follows_inserts_renames_and_deletes(staff_client, world):
    template = world.tasks[0]
    task = AnnotationTask.objects.create(
        job=template.job, dataset=template.dataset, annotator=template.annotator, name="Ptarmigan 7"
    )
    assert task.pk in searched(staff_client, "tarmig")

    task.name = "Quetzal 7"
    task.save()
    assert task.pk not in searched(staff_client, "tarmig")
    assert task.pk in searched(staff_client, "QUETZ")

    AnnotationTask.objects.filter(name__startswith="Lynx").update(name="Lynxes renamed")
    assert searched(staff_client, "xes ren") == matching("xes ren") != set()

    task.delete()
    assert searched(staff_client, "quetz") == set()


@pytest.mark.parametrize("text", ['50% "done"', "a_b", '"', "o\\p", "100%", "it's"])
def test_special_characters_are_matched_literally(staff_client, world, text):
    template = world.tasks[0]
    for name in ['Report 50% "done" here', "a_b and aXb", "o\\p", "100%", "it's", "plain"]:
        AnnotationTask.objects.create(
            job=template.job, dataset=template.dataset, annotator=template.annotator, name=name
        )
    expected = matching(text)
    assert expected, "the fixture must contain a match"
    assert searched(staff_client, text) == expected


@pytest.mark.parametrize("text", ["ly", "x", "lynx", "ARTEN", "zephyrtask", "nomatchatall"])
def test_short_and_long_texts_agree_with_a_substring_match(staff_client, world, text):
    expected = matching(text) | {
        t.pk
        for t in world.tasks
        if any(
            text.lower() in v.lower()
            for v in (
                t.job.title,
                t.dataset.title,
                t.annotator.name,
                *(tag.name for tag in t.dataset.tags.all()),
            )
        )
    }
    assert searched(staff_client, text) == expected


def test_names_of_three_characters_or_more_go_through_the_trigram_index(world):
    long_sql = str(selectors.task_ids_with_name("lynx").query)
    short_sql = str(selectors.task_ids_with_name("ly").query)
    if connection.vendor == "sqlite":
        # FTS5 on SQLite; a text without a trigram is matched name by name.
        assert "MATCH" in long_sql and "admin_explorer_task_name_fts" in long_sql
        assert "LIKE" in short_sql and "MATCH" not in short_sql
    else:
        # The expression migration 0002 indexes with pg_trgm.
        assert 'UPPER("admin_explorer_annotationtask"."name"::text) LIKE' in long_sql


def test_seeded_tasks_are_all_findable_by_name(db):
    from admin_explorer import seeding

    seeding.seed(600, seed_value=3)
    for text in ["intent", "abel", "Check translation 1"]:
        assert set(selectors.task_ids_with_name(text)) == matching(text) != set()


def test_a_failed_bulk_insert_keeps_the_insert_trigger(world):
    from django.db import transaction

    from admin_explorer import bulk

    def failing_insert():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), transaction.atomic(), connection.cursor() as cursor:
        bulk.insert_tasks(cursor, failing_insert)
    template = world.tasks[0]
    task = AnnotationTask.objects.create(
        job=template.job, dataset=template.dataset, annotator=template.annotator, name="Wagtail"
    )
    assert list(selectors.task_ids_with_name("wagtail")) == [task.pk]


def test_matched_ids_travel_as_one_array_on_postgresql(staff_client, world):
    """(Sorted by name: sorted by a timestamp, a search alone is answered from the name
    search's own rows, and its ids travel nowhere.)"""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        body = staff_client.get("/api/admin/data", {"search": "ynx", "sort_by": "task_name"}).json()
    assert body["count"] == len(matching("ynx"))
    task_queries = [
        q["sql"] for q in captured.captured_queries if "admin_explorer_annotationtask" in q["sql"]
    ]
    if connection.vendor == "postgresql":
        assert any("= ANY(" in sql for sql in task_queries)
    else:
        assert not any("= ANY(" in sql for sql in task_queries)


def test_rebuild_name_index_picks_up_rows_written_around_the_triggers(world):
    from io import StringIO

    from django.core.management import call_command

    from admin_explorer import fulltext

    template = world.tasks[0]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {fulltext.TABLE}_insert")
            task = AnnotationTask.objects.create(
                job=template.job,
                dataset=template.dataset,
                annotator=template.annotator,
                name="Hoopoe",
            )
            cursor.execute(fulltext.INSERT_TRIGGER)
        assert list(selectors.task_ids_with_name("hoopoe")) == []
    else:
        task = AnnotationTask.objects.create(
            job=template.job, dataset=template.dataset, annotator=template.annotator, name="Hoopoe"
        )
    out = StringIO()
    call_command("rebuild_name_index", stdout=out)
    assert list(selectors.task_ids_with_name("hoopoe")) == [task.pk]
    assert (
        "Rebuilt the name index over" if connection.vendor == "sqlite" else "Nothing to do"
    ) in out.getvalue()


@pytest.mark.parametrize(
    "params",
    [
        {"search": "ynx"},
        {"search": "lynx", "sort_by": "project_title", "page_size": 5, "page": 2},
        {"search": "ynx", "status": "approved,pending", "sort_by": "annotator_name"},
        {"search": "kestrel", "annotator": "placeholder", "sort_dir": "asc"},
    ],
)
def test_a_name_search_reads_its_matches_once(staff_client, world, params):
    """A search matching task names only (a bounded id list): one query reads every match in
    the page's order, and the count, the page and the menus come from those rows."""
    from django.test.utils import CaptureQueriesContext

    from .conftest import resolve

    params = resolve(world, params)
    with CaptureQueriesContext(connection) as captured:
        body = staff_client.get("/api/admin/data", params).json()
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].count("admin_explorer_annotationtask") and "COUNT(" not in q["sql"].upper()
    ]
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    everything = dict(params, page=1, page_size=500)
    rows = staff_client.get("/api/admin/data", everything).json()["results"]
    assert body["count"] == len(rows) > 0
    page, size = int(params.get("page", 1)), int(params.get("page_size", 50))
    assert [r["task_id"] for r in body["results"]] == [
        r["task_id"] for r in rows[(page - 1) * size : page * size]
    ]
    if "annotator" not in params:  # every menu reads the listed rows
        assert {p["id"] for p in body["facets"]["projects"]} == {r["project_id"] for r in rows}
        assert {a["id"] for a in body["facets"]["annotators"]} == {r["annotator_id"] for r in rows}
    assert reads  # the matches were read (and only counted from them)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", ["created_at", "updated_at"])
def test_a_search_alone_orders_its_matches_as_the_database_does(db, sort_by, direction):
    """The name search's own rows, put in order from their keys, are the database's order:
    ties broken by id, whole seconds beside fractions (SQLite stores ``12:00:05`` and
    ``12:00:05.500000`` as text), and no second read of the matches."""
    import datetime as dt

    from django.test.utils import CaptureQueriesContext

    from admin_explorer import seeding
    from admin_explorer.query import parse_query
    from admin_explorer.serializers import PageParamsSerializer

    seeding.seed(300, seed_value=4)
    named = list(AnnotationTask.objects.filter(name__icontains="label intent").order_by("id"))
    assert len(named) > 12
    moment = dt.datetime(2025, 6, 1, 12, 0, 5, tzinfo=dt.UTC)
    for n, task in enumerate(named[:12]):  # ties, whole seconds and fractions
        at = moment + dt.timedelta(microseconds=[0, 500_000, 1][n % 3])
        AnnotationTask.objects.filter(pk=task.pk).update(created_at=at, updated_at=at)
    params = {"search": "label intent", "sort_by": sort_by, "sort_dir": direction}
    query = parse_query(params, PageParamsSerializer)
    with CaptureQueriesContext(connection) as captured:
        keyed = query.bounded
    task_reads = [q for q in captured.captured_queries if "annotationtask" in q["sql"]]
    assert len(task_reads) == 1  # the name search itself
    in_database_order = list(
        parse_query(params, PageParamsSerializer)
        .tasks()
        .values_list("id", "job_id", "annotator_id", "dataset_id")
    )
    assert [row[:4] for row in keyed] == in_database_order
    assert {row[0] for row in keyed} == matching("label intent")
