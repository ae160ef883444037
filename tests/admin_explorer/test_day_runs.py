"""A date range sorted by update time, name or status, read as one run per UTC day."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_explorer import bulk, day_runs, seeding, selectors
from admin_explorer.query import parse_query
from admin_explorer.serializers import PageParamsSerializer

UTC = dt.UTC


def test_the_days_of_a_range_are_its_utc_days():
    at = dt.datetime(2025, 3, 1, 22, 30, tzinfo=UTC)
    assert day_runs.utc_days(at, at + dt.timedelta(hours=3)) == [
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 2),
    ]
    # A range ending on midnight does not reach the next day.
    midnight = dt.datetime(2025, 3, 3, tzinfo=UTC)
    assert day_runs.utc_days(midnight - dt.timedelta(days=1), midnight) == [dt.date(2025, 3, 2)]
    # Another zone's day spans two UTC days.
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    local = dt.datetime(2025, 3, 2, tzinfo=kolkata)
    assert day_runs.utc_days(local, local + dt.timedelta(days=1)) == [
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 2),
    ]
    assert day_runs.utc_days(midnight, midnight) == []
    assert day_runs.utc_days(None, midnight) is None
    assert day_runs.utc_days(midnight, None) is None
    too_long = midnight + dt.timedelta(days=day_runs.MAX_DAYS + 1)
    assert day_runs.utc_days(midnight, too_long) is None


@pytest.fixture
def tasks(db):
    seeding.seed(2_000, seed_value=8)
    with connection.cursor() as cursor:
        bulk.refresh_statistics(cursor)
    return selectors.total_tasks()


def middle_day() -> dt.date:
    days = selectors.all_tasks().order_by("created_at").values_list("created_at", flat=True)
    return days[days.count() // 2].astimezone(UTC).date()


def ranges() -> list[dict]:
    day = middle_day()
    return [
        # Whole UTC days.
        {"created_from": str(day - dt.timedelta(days=40)), "created_to": str(day)},
        # Datetime bounds: part-days at both ends.
        {
            "created_from": f"{day - dt.timedelta(days=30)}T13:15:00Z",
            "created_to": f"{day + dt.timedelta(days=9)}T05:00:00Z",
        },
        # Another zone's days, each across two UTC days.
        {
            "created_from": f"{day - dt.timedelta(days=20)}T00:00:00+05:30",
            "created_to": f"{day + dt.timedelta(days=20)}T00:00:00+05:30",
        },
        # One day.
        {"created_from": str(day), "created_to": str(day)},
    ]


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", sorted(day_runs.DAY_INDEXES))
def test_every_page_read_by_day_runs_is_the_plain_order(
    staff_client, tasks, monkeypatch, sort_by, direction
):
    """Every page, from the front, from the back (past the middle) and past both (the
    other plans), is exactly the plain order's page."""
    monkeypatch.setattr(day_runs, "MAX_RUN_ROWS", 45)
    merged = []
    real = day_runs.run_ids
    monkeypatch.setattr(day_runs, "run_ids", lambda *a: merged.append(a) or real(*a))
    for dates in ranges():
        params = {**dates, "sort_by": sort_by, "sort_dir": direction}
        expected = list(
            parse_query(params, PageParamsSerializer).tasks().values_list("id", flat=True)
        )
        assert expected
        served, page = [], 1
        while len(served) < len(expected):
            body = staff_client.get("/api/admin/data", {**params, "page": page, "page_size": 20})
            assert body.status_code == 200, body.content[:300]
            assert body.json()["count"] == len(expected)
            served += [row["task_id"] for row in body.json()["results"]]
            page += 1
        assert served == expected, dates
    assert merged  # the runs served the pages near either end


def test_other_filters_or_sorts_are_not_read_by_day_runs(staff_client, tasks, monkeypatch):
    merged = []
    monkeypatch.setattr(day_runs, "run_ids", lambda *a: merged.append(a) or [])
    dates = ranges()[0]
    for params in (
        {**dates, "sort_by": "created_at"},
        {**dates, "sort_by": "quality_rating"},
        {**dates, "sort_by": "updated_at", "status": "approved"},
        {"created_from": dates["created_from"], "sort_by": "updated_at"},  # open-ended
    ):
        body = staff_client.get("/api/admin/data", params)
        assert body.status_code == 200 and body.json()["results"], params
    assert merged == []


def plan_nodes(sql: str) -> list[str]:
    """Readable plan steps of ``sql``: PostgreSQL nodes as ``parent > node index``."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            rows = cursor.fetchall()
            detail = {row[0]: row[-1] for row in rows}
            return [f"{detail.get(row[1], '')} > {row[-1]}" for row in rows]
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        steps, todo = [], [("", plan[0]["Plan"])]
        while todo:
            parent, node = todo.pop()
            steps.append(f"{parent} > {node['Node Type']} {node.get('Index Name', '')}")
            todo += [(node["Node Type"], child) for child in node.get("Plans", [])]
        return steps


@pytest.mark.parametrize("sort_by", sorted(day_runs.DAY_INDEXES))
def test_each_day_is_read_from_its_index_in_the_page_order(tasks, sort_by):
    """No run sorts its day: each reads its index from the start of that day (at 10M tasks
    a month sorted by name or status was sorted whole, or walked for 200-500 ms)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
    params = {**ranges()[0], "sort_by": sort_by, "sort_dir": "desc"}
    query = parse_query(params, PageParamsSerializer)
    days = day_runs.utc_days(*query.filterset.creation_range())
    with CaptureQueriesContext(connection) as captured:
        ids = day_runs.run_ids(query.tasks(), days, 0, 50, sort_by)
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])
    steps = plan_nodes(captured.captured_queries[-1]["sql"].replace("%", "%%"))
    index = day_runs.DAY_INDEXES[sort_by]
    assert sum(index in step for step in steps) == len(days), steps
    # A run's rows (at most 50) may be sorted for the merge; inside a run, nothing is.
    if connection.vendor == "sqlite":
        assert not [s for s in steps if s.startswith("CO-ROUTINE") and "TEMP B-TREE" in s], steps
    else:
        assert not [s for s in steps if s.startswith("Limit > Sort")], steps
