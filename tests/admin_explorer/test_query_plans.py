"""The query plans behind the explorer's worst cases, pinned on both databases.

Each test reads the plan of the query a page really runs and asserts the intended index
serves it, with no sort of the matching rows, so a later change cannot silently bring back
a sort of a quarter of the table (a temp B-tree over 273k rows took 225 ms at 1M tasks).
Small data, so on PostgreSQL sequential scans are priced out (``enable_seqscan``) as they
would be at a million rows; that changes which plans are cheap, never which are possible.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from admin_explorer import bulk, paging, seeding, selectors
from admin_explorer import query as explorer_query
from admin_explorer.models import AnnotationTask, Annotator
from admin_explorer.query import parse_query
from admin_explorer.serializers import PageParamsSerializer

#: The plans a page can be read by; a forced walk (``INDEXED BY``) is SQLite's alone.
PLANS = ["sort", "walk", "planner"] if connection.vendor == "sqlite" else ["sort", "planner"]
DIRECT_SORTS = ["created_at", "updated_at", "task_name", "status", "quality_rating"]


@pytest.fixture
def tasks(db):
    seeding.seed(2_000, seed_value=7)
    with connection.cursor() as cursor:
        bulk.refresh_statistics(cursor)
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
    return selectors.total_tasks()


def plan_of(sql: str, params) -> dict:
    """``{"indexes": names used, "sorts": sort steps, "text": readable}`` of ``sql``."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            nodes, todo = [], [cursor.fetchone()[0][0]["Plan"]]
            while todo:
                node = todo.pop()
                nodes.append(node)
                todo += node.get("Plans", [])
            return {
                "indexes": {n["Index Name"] for n in nodes if "Index Name" in n},
                "sorts": [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]],
                "text": [f"{n['Node Type']} {n.get('Index Name', '')}" for n in nodes],
            }
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        steps = [row[-1] for row in cursor.fetchall()]
        return {
            "indexes": {s.split(" INDEX ")[1].split(" ")[0] for s in steps if " INDEX " in s},
            "sorts": [s for s in steps if "TEMP B-TREE" in s],
            "text": steps,
        }


def page_query(params: dict, offset: int = 0, limit: int = 50) -> tuple[list[int], dict]:
    """The page ids as the list API reads them, and the plan of the query that read them."""
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    with CaptureQueriesContext(connection) as captured:
        ids = paging.page_ids(
            query.tasks(),
            offset,
            limit,
            count,
            query.sort_by,
            selectors.total_tasks,
            filters=query.filterset.paging_filters,  # as the list API passes them
        )
    sql = captured.captured_queries[-1]["sql"]
    # The captured text has its parameters inlined; EXPLAIN it as it is.
    return ids, plan_of(sql.replace("%", "%%"), [])


def range_around_the_middle(tasks: int, days: int) -> dict:
    """``created_from``/``created_to`` spanning ``days`` either side of the median task's day."""
    middle = selectors.all_tasks().order_by("created_at").values_list("created_at", flat=True)
    day = middle[tasks // 2].date()
    return {
        "created_from": (day - dt.timedelta(days=days)).isoformat(),
        "created_to": (day + dt.timedelta(days=days)).isoformat(),
    }


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", DIRECT_SORTS)
def test_every_direct_sort_reads_an_index_in_order(tasks, monkeypatch, column, direction):
    """Including the rating's blanks-last order both ways and every NOT NULL column's
    descending order (a NULLS LAST there would not match PostgreSQL's index)."""
    monkeypatch.setattr(paging, "SORT_ROWS", 0)  # as with a million tasks: none is "few"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_sort = off")  # any index order is found, if one exists
    _ids, plan = page_query({"sort_by": column, "sort_dir": direction})
    assert not plan["sorts"], plan["text"]


def test_several_annotators_by_update_walk_the_updated_index(tasks, monkeypatch):
    """The slowest call at 1M tasks: three annotators (a quarter of the tasks), newest
    update first. The page walks the ``updated_at`` index instead of sorting their tasks."""
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    busiest = Annotator.objects.annotate(n=Count("tasks")).order_by("-n", "id")
    annotators = list(busiest.values_list("id", flat=True)[:3])
    params = {"annotator": ",".join(map(str, annotators)), "sort_by": "updated_at"}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    if connection.vendor == "sqlite":
        assert paging.plan(count, lambda: tasks, 0, 50, "updated_at") == "walk"
        ids, plan = page_query(params)
        assert "task_updated_idx" in plan["indexes"] and not plan["sorts"], plan["text"]
    else:
        ids, plan = page_query(params)
    expected = list(
        selectors.order_tasks(query.filterset.qs, "updated_at", "desc").values_list(
            "id", flat=True
        )[:50]
    )
    assert ids == expected


def test_a_small_match_is_sorted_not_walked(tasks, monkeypatch):
    """A month of creation dates under "recently updated": walking the ``updated_at`` index
    would read almost every task before reaching that month (5.9 s at 1M tasks). Few rows
    match, so they are found by the date index and sorted."""
    monkeypatch.setattr(paging, "SORT_ROWS", tasks)  # every count here is "small"
    params = {
        "created_from": "2000-01-01",
        "created_to": "2999-12-31",
        "sort_by": "updated_at",
        "sort_dir": "desc",
    }
    ids, plan = page_query(params)
    assert "task_updated_idx" not in plan["indexes"], plan["text"]
    assert plan["sorts"], plan["text"]
    expected = list(
        selectors.order_tasks(selectors.all_tasks(), "updated_at", "desc").values_list(
            "id", flat=True
        )[:50]
    )
    assert ids == expected


def test_a_few_matches_far_apart_are_walked_not_sorted(tasks, monkeypatch):
    """A search for one surname matched 19,000 tasks of 49 annotators at 1M tasks: sorting
    them by name took 54 ms on SQLite and 30 ms on PostgreSQL, walking the name index finds
    page 1 in about 2,600 entries (4 ms). SQLite is made to walk; PostgreSQL gets the plain
    order, and its statistics choose the walk."""
    monkeypatch.setattr(paging, "SORT_ALWAYS", 0)  # at 2,000 tasks every match is "few"
    busy = Annotator.objects.annotate(n=Count("tasks")).order_by("id").values_list("id", "n")
    annotators, count = [], 0
    for annotator, n in busy:  # enough of them for a walk to win (at 2,000 tasks)
        annotators.append(annotator)
        count += n
        if count >= 0.4 * tasks:
            break
    params = {
        "annotator": ",".join(map(str, annotators)),
        "sort_by": "task_name",
        "sort_dir": "asc",
    }
    query = parse_query(params, PageParamsSerializer)
    assert query.count() == count
    assert count <= paging.SORT_ROWS  # few enough to be sorted
    assert (50 * tasks / count) * paging.WALK_ADVANTAGE <= count
    expected_plan = "walk" if connection.vendor == "sqlite" else "planner"
    assert paging.plan(count, lambda: tasks, 0, 50, "task_name") == expected_plan
    ids, plan = page_query(params)
    if connection.vendor == "sqlite":
        assert "task_name_idx" in plan["indexes"] and not plan["sorts"], plan["text"]
    expected = list(
        selectors.order_tasks(query.filterset.qs, "task_name", "asc").values_list("id", flat=True)[
            :50
        ]
    )
    assert ids == expected
    # A search gathers its matches along the names: walking there is never chosen.
    assert paging.plan(count, lambda: tasks, 0, 50, "task_name", frozenset({"search"})) == "sort"


@pytest.mark.parametrize("column", ["task_name", "status", "quality_rating"])
def test_a_date_range_is_never_walked_along_an_index_that_breaks_ties_by_id(
    tasks, monkeypatch, column
):
    """Ids grow with creation time, so a month's tasks sit in one stretch of every
    ``(column, id)`` index per value of the column (and the names, which carry a running
    number, gather them too). A walk from the index's start reads everything before that
    stretch first: "one month by task name" took 104 ms on SQLite at 1M tasks, and the
    status order 47 ms. The month's tasks are few: they are sorted."""
    monkeypatch.setattr(paging, "SORT_ALWAYS", 0)  # at 2,000 tasks every match is "few"
    params = {**range_around_the_middle(tasks, 120), "sort_by": column, "sort_dir": "asc"}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    filters = query.filterset.paging_filters
    assert (50 * tasks / count) * paging.WALK_ADVANTAGE <= count  # a walk would look cheap
    assert paging.plan(count, lambda: tasks, 0, 50, column, filters) == "sort"
    ids, plan = page_query(params)
    assert plan["sorts"], plan["text"]
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])
    # However many the month holds (370,000 at 10M tasks), no walk along names or statuses.
    month = 8 * paging.SORT_ROWS
    many = paging.plan(month, lambda: 27 * month, 0, 50, column, filters)
    assert many == ("planner" if column == "quality_rating" else "sort")


def test_a_search_matching_no_task_name_does_not_rule_out_a_walk_by_name(tasks):
    """A surname finds annotators only: their tasks are spread along the names like any
    annotator filter's. A search that matches task names gathers them there."""
    surname = Annotator.objects.order_by("id").values_list("name", flat=True)[0].split()[-1]
    by_surname = parse_query({"search": surname, "sort_by": "task_name"}, PageParamsSerializer)
    by_surname.count()
    assert by_surname.filterset.paging_filters == frozenset({"annotator"})
    name = AnnotationTask.objects.order_by("id").values_list("name", flat=True)[0]
    by_name = parse_query({"search": name, "sort_by": "task_name"}, PageParamsSerializer)
    by_name.count()
    assert by_name.filterset.paging_filters == frozenset({"search"})


@pytest.mark.parametrize("how", PLANS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", DIRECT_SORTS)
def test_every_plan_gives_the_same_page(tasks, monkeypatch, how, column, direction):
    monkeypatch.setattr(paging, "plan", lambda *args: how)
    params = {"status": "approved,rejected", "sort_by": column, "sort_dir": direction}
    query = parse_query(params, PageParamsSerializer)
    expected = list(query.tasks().values_list("id", flat=True))
    count = len(expected)
    for offset in (0, 50, count - 30):
        ids = paging.page_ids(query.tasks(), offset, 50, count, column, lambda: tasks)
        assert ids == expected[offset : offset + 50]


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "approved,rejected"}, {"rating_min": "3.5"}],
    ids=["all", "tally-counted", "group-counted"],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", ["project_title", "dataset_title"])
def test_title_sorts_read_by_groups_give_the_plain_order(
    tasks, staff_client, monkeypatch, column, direction, filters
):
    """Dataset titles repeat across projects ("Call recordings batch 1"), so groups hold
    several datasets whose tasks interleave by id."""
    params = {**filters, "sort_by": column, "sort_dir": direction}
    query = parse_query(params, PageParamsSerializer)
    expected = list(query.tasks().values_list("id", flat=True))
    groups = query.title_groups(len(expected))
    assert sum(n for _ids, n in groups) == len(expected)
    if column == "dataset_title":
        assert any(len(ids) > 1 for ids, _n in groups)
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    served = []
    page = 1
    while len(served) < len(expected):
        body = staff_client.get("/api/admin/data", {**params, "page": page, "page_size": 170})
        assert body.status_code == 200
        served += [row["task_id"] for row in body.json()["results"]]
        page += 1
    assert served == expected


def busiest_annotators(n: int = 3) -> str:
    busiest = Annotator.objects.annotate(n=Count("tasks")).order_by("-n", "id")
    return ",".join(map(str, busiest.values_list("id", flat=True)[:n]))


def index_only(plan: dict, index: str) -> bool:
    """Whether ``index`` alone gives the rows (no table row read per match)."""
    if connection.vendor == "postgresql":
        return f"Index Only Scan {index}" in plan["text"]
    return any(f"USING COVERING INDEX {index} " in f"{step} " for step in plan["text"])


@pytest.fixture
def vacuumed_tasks(transactional_db):
    """Seeded tasks with PostgreSQL's visibility map set, as after the seeder's ``VACUUM``
    (a test's transaction rules it out): only then is an index-only scan priced as one."""
    seeding.seed(2_000, seed_value=7)
    with connection.cursor() as cursor:
        bulk.refresh_statistics(cursor)
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
    yield selectors.total_tasks()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET ALL")


@pytest.mark.parametrize("column", ["updated_at", "task_name", "status", "quality_rating"])
def test_a_date_range_is_sorted_from_the_date_index_alone(vacuumed_tasks, monkeypatch, column):
    """A month of tasks by update, name, status or rating: the matches are sorted, and their
    sort keys come from the creation index, not from one table row each (a month at 1M
    tasks read 14,000 table blocks: 50-110 ms)."""
    monkeypatch.setattr(paging, "SORT_ROWS", vacuumed_tasks)
    params = {
        **range_around_the_middle(vacuumed_tasks, days=15),
        "sort_by": column,
    }
    ids, plan = page_query(params)
    assert index_only(plan, "task_created_idx"), plan["text"]
    query = parse_query(params, PageParamsSerializer)
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


def test_a_deep_page_of_several_annotators_walks_the_update_index_alone(tasks, monkeypatch):
    """Three busy annotators' page 200 by update walks 36,000 entries at 1M tasks; the
    annotator is in the update index, so the walk reads no table row per entry."""
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    monkeypatch.setattr(paging, "WALK_ROWS", tasks)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_sort = off")
    params = {"annotator": busiest_annotators(), "sort_by": "updated_at"}
    ids, plan = page_query(params, offset=100, limit=50)
    assert index_only(plan, "task_updated_idx") and not plan["sorts"], plan["text"]
    query = parse_query(params, PageParamsSerializer)
    assert ids == list(query.tasks().values_list("id", flat=True)[100:150])


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", ["project_title", "dataset_title", "annotator_name"])
def test_uncounted_title_groups_give_the_plain_order(
    tasks, staff_client, monkeypatch, column, direction
):
    """Three busy annotators (273,000 tasks at 1M) by a title: too many matches to count per
    title up front, so the page reads title by title and counts only the titles it skips,
    from either end (by annotator name, the annotator tally has the counts)."""
    params = {"annotator": busiest_annotators(6), "sort_by": column, "sort_dir": direction}
    query = parse_query(params, PageParamsSerializer)
    expected = list(query.tasks().values_list("id", flat=True))
    monkeypatch.setattr(explorer_query, "GROUP_COUNT_ROWS", 0)
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    groups = query.title_groups(len(expected))
    if column == "annotator_name":
        # The chosen annotators' counts are read from the annotator tally, not counted.
        assert groups and sum(n for _ids, n in groups) == len(expected)
    else:
        assert groups and all(n is None for _ids, n in groups)
    served = []
    page = 1
    while len(served) < len(expected):
        body = staff_client.get("/api/admin/data", {**params, "page": page, "page_size": 70})
        assert body.status_code == 200
        served += [row["task_id"] for row in body.json()["results"]]
        page += 1
    assert served == expected


@pytest.mark.parametrize("column", ["project_title", "dataset_title"])
def test_a_title_under_busy_annotators_is_read_in_id_order(tasks, monkeypatch, column):
    """Three busy annotators by project title: SQLite, knowing only average statistics,
    read the annotator index and sorted all their tasks of the first project (115,000 at
    1M tasks) for one page. Each title's tasks are read along its own index in id order."""
    monkeypatch.setattr(explorer_query, "GROUP_COUNT_ROWS", 0)
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    params = {"annotator": busiest_annotators(), "sort_by": column}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    with CaptureQueriesContext(connection) as captured:
        ids = paging.page_ids(
            query.tasks(),
            0,
            50,
            count,
            column,
            groups=lambda: query.title_groups(count),
            descending=query.sort_dir == "desc",
        )
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])
    if connection.vendor == "sqlite":  # PostgreSQL's own plan for a title is fine (97 blocks)
        plan = plan_of(captured.captured_queries[-1]["sql"].replace("%", "%%"), [])
        field = paging.GROUPED_SORTS[column]
        assert plan["indexes"] == {paging.column_index(field)}, plan["text"]
        assert not plan["sorts"], plan["text"]


def test_a_few_annotators_are_sorted_by_update_from_their_index_alone(vacuumed_tasks, monkeypatch):
    """A search matching a few annotators' names becomes an annotator id list (19,000 tasks
    for 'rossi' at 1M); sorted by update, each match read its table row (11,000 blocks).
    The annotator index carries the update time."""
    monkeypatch.setattr(paging, "SORT_ROWS", vacuumed_tasks)
    monkeypatch.setattr(paging, "WALK_ADVANTAGE", vacuumed_tasks)  # the sort plan, not a walk
    params = {"annotator": busiest_annotators(), "sort_by": "updated_at", "sort_dir": "asc"}
    ids, plan = page_query(params)
    assert index_only(plan, "task_annot_cover_updated_idx"), plan["text"]
    query = parse_query(params, PageParamsSerializer)
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


def test_a_date_range_by_update_is_never_walked(tasks, monkeypatch):
    """At 10M tasks a month matches 370,000 tasks, more than are "few", and SQLite walked the
    update index for the page: the estimate assumes the month spread evenly along it, but its
    tasks were updated long ago, so the walk read most of the index (22 s). Under a date
    range the update order is always sorted from the matches."""
    monkeypatch.setattr(paging, "SORT_ROWS", 0)
    monkeypatch.setattr(paging, "GROUPED_ROWS", 0)
    monkeypatch.setattr(paging, "WALK_ROWS", tasks)
    params = {"created_from": "2000-01-01", "created_to": "2999-12-31", "sort_by": "updated_at"}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    filters = query.filterset.in_use
    assert paging.plan(count, lambda: tasks, 0, 50, "updated_at", filters) == "sort"
    with CaptureQueriesContext(connection) as captured:
        ids = paging.page_ids(
            query.tasks(), 0, 50, count, "updated_at", lambda: tasks, filters=filters
        )
    plan = plan_of(captured.captured_queries[-1]["sql"].replace("%", "%%"), [])
    assert "task_updated_idx" not in plan["indexes"], plan["text"]
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("page", [1, 5])
def test_a_date_range_by_creation_reads_the_range_off_the_creation_index(
    vacuumed_tasks, monkeypatch, direction, page
):
    """A month sorted by creation: the creation index holds exactly the month's rows in the
    page's order, so the page is read from the range's start with no sort (a month at 10M
    tasks sorted its 370,000 rows for each page)."""
    monkeypatch.setattr(paging, "SORT_ROWS", vacuumed_tasks)  # as if the month were "few"
    params = {
        **range_around_the_middle(vacuumed_tasks, days=15),
        "sort_by": "created_at",
        "sort_dir": direction,
    }
    ids, plan = page_query(params, offset=(page - 1) * 20, limit=20)
    assert plan["sorts"] == [], plan["text"]
    assert "task_created_idx" in plan["indexes"], plan["text"]
    query = parse_query(params, PageParamsSerializer)
    everything = list(query.tasks().values_list("id", flat=True))
    assert ids == everything[(page - 1) * 20 : page * 20]


def title_page(query, count: int) -> tuple[list[int], list[str]]:
    """Page 1 of ``query`` (sorted by a title) as the list API reads it by groups, and the
    SQL of the task queries that read it."""
    with CaptureQueriesContext(connection) as captured:
        ids = paging.page_ids(
            query.tasks(),
            0,
            50,
            count,
            query.sort_by,
            selectors.total_tasks,
            groups=lambda: query.title_groups(count),
            descending=query.sort_dir == "desc",
            filters=query.filterset.paging_filters,
        )
    return ids, [q["sql"] for q in captured.captured_queries if paging.TASKS in q["sql"]]


@pytest.mark.parametrize("column", ["project_title"])
def test_a_month_by_title_is_read_by_groups_not_sorted_with_its_titles(
    vacuumed_tasks, monkeypatch, column
):
    """A month of tasks (37,000 at 1M) by project title was sorted with the titles joined to
    every match; above ``GROUPED_ROWS`` matches the page is read title by title instead.
    (By dataset title PostgreSQL may sort one dataset's month in id order: a few thousand
    rows, which its statistics price below a walk.)"""
    params = {
        **range_around_the_middle(vacuumed_tasks, days=60),
        "sort_by": column,
    }
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    monkeypatch.setattr(paging, "GROUPED_ROWS", count // 2)
    assert count <= paging.SORT_ROWS  # few enough that it used to be sorted
    ids, task_queries = title_page(query, count)
    assert task_queries
    for sql in task_queries:  # (the few titles themselves are sorted: a handful of rows)
        assert "interviews_job" not in sql, sql  # no title is joined to the matches
        plan = plan_of(sql.replace("%", "%%"), [])
        # One title's tasks in the range may be sorted by id: found through the (project,
        # creation) index, a few thousand rows (see the next test).
        if "task_job_created_cover_idx" not in str(plan):
            assert plan["sorts"] == [], plan["text"]
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


@pytest.mark.parametrize("column", ["project_title", "dataset_title"])
def test_a_title_under_a_date_range_is_not_walked_along_its_own_index(
    vacuumed_tasks, monkeypatch, column
):
    """Ids grow with creation time, so a month's tasks of one project sit in one stretch of
    the project's index, and a walk along it reads every earlier task of the project first:
    91 ms on SQLite for 15,000 tasks of a project's month at 10M tasks, 1.1 ms through the
    (project, creation) index with the 15,000 sorted."""
    params = {**range_around_the_middle(vacuumed_tasks, days=60), "sort_by": column}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    monkeypatch.setattr(paging, "GROUPED_ROWS", count // 2)
    ids, task_queries = title_page(query, count)
    assert task_queries
    assert not [sql for sql in task_queries if "INDEXED BY" in sql]
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_title_under_a_range_open_where_the_walk_starts_is_walked(
    vacuumed_tasks, monkeypatch, direction
):
    """Newest first since a date (or oldest first up to one), the walk along a project's
    index meets the range at its first entries: at 10M tasks "since January, by dataset"
    took 34 ms walked and 145 ms with each dataset's tasks since January sorted."""
    day = range_around_the_middle(vacuumed_tasks, days=0)
    bound = {"desc": "created_from", "asc": "created_to"}[direction]
    params = {bound: day[bound], "sort_by": "project_title", "sort_dir": direction}
    query = parse_query(params, PageParamsSerializer)
    count = query.count()
    monkeypatch.setattr(paging, "GROUPED_ROWS", count // 2)
    ids, task_queries = title_page(query, count)
    if connection.vendor == "sqlite":
        assert [sql for sql in task_queries if "INDEXED BY" in sql]
    assert ids == list(query.tasks().values_list("id", flat=True)[:50])


@pytest.mark.parametrize("sort_by", ["created_at", "updated_at", "task_name"])
def test_a_search_matching_nothing_gives_an_empty_page_under_any_plan(staff_client, tasks, sort_by):
    """No task, project, dataset or annotator contains the text: the query has an always-false
    condition, which Django refuses to write as SQL. Every plan answers with an empty page."""
    params = {"search": "no-such-text-anywhere", "created_from": "2000-01-01", "sort_by": sort_by}
    response = staff_client.get("/api/admin/data", params)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 0 and response.json()["results"] == []
