"""Which rows form a page: the ids of one page of an ordered task query, by the cheaper of
two plans.

A page of a filtered, sorted list can be read two ways. *Walk*: read the sort column's index
in order and keep the rows that pass the filters; it stops after the page, so it costs about
``(offset + limit) * total / count`` index entries, cheap when many rows match. *Sort*: find
the matching rows through a filter's index and sort them; it costs ``count`` rows, cheap when
few match. A planner that misjudges either (a filter correlated with the sort column, such as
a month of creation dates under "recently updated"; or SQLite, which always prefers the
filter's index and then sorts a quarter of the table) turns a millisecond page into seconds.
Both ends are known here (the count is computed before the page), so the plan is chosen here:

- at most ``SORT_ROWS`` matching rows: sort them. The sort key is wrapped so that no index
  offers the order, which leaves the filter's index the only good path on either database;
- on SQLite, a walk of at most ``WALK_ROWS`` index entries: walk (``INDEXED BY``);
- a range of the sort column alone (a month by creation): read off that column's index;
- a date range alone, by update time, name or status: one run per day (``day_runs``);
- a sort by a project or dataset title, above ``GROUPED_ROWS`` matches: by *groups* (below);
- otherwise the database's own plan.

Groups: sorting by a related title sorts by something the task row does not hold, so no
task index has that order and the database sorts every task of the first projects (420,000
of them for the biggest at 1M tasks). But there are few titles, and how many matching tasks
each holds is known cheaply (the tally, or one grouped count). So the page is located among
the titles, and the rows are read title by title in id order, which the project and dataset
indexes give (``id`` breaks ties, so tasks under one title are in id order).
"""

import functools
import heapq
from itertools import islice

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from . import day_runs
from .expressions import TASKS, indexed_by
from .lookups import in_list

#: Matching rows that are cheaper to sort than to find by walking an index (a few ms).
SORT_ROWS = 50_000
#: Matching rows above which a sort by a related title reads the page by groups: sorting
#: them with their titles joined costs more (a month of 37,000 tasks by project title).
GROUPED_ROWS = 20_000
#: Index entries a walk may read before sorting the matches is the better plan.
WALK_ROWS = 50_000
#: SQLite's index for each directly sortable column: ``(column, id)``.
SORT_INDEXES = {
    "task_name": "task_name_idx",
    "status": "task_status_id_idx",
    "quality_rating": "task_rating_idx",
    "created_at": "task_created_idx",
    "updated_at": "task_updated_idx",
}
#: Sorts by a related title: the task column that names the row holding the title. The
#: annotator's name is read by groups only under an annotator filter (a few names).
GROUPED_SORTS = {
    "project_title": "job_id",
    "dataset_title": "dataset_id",
    "annotator_name": "annotator_id",
}


#: A range of creation dates. Ids grow with creation time, so its tasks sit in one stretch
#: of every ``(column, id)`` index per value of the column (and task names, which carry a
#: running number, gather them along the names too).
DATE_RANGE = frozenset({"created_from", "created_to"})
#: Sort columns whose order follows a filter's: a task is updated after it is created, so a
#: month long ago sits far down "recently updated", and a walk (whose estimate assumes the
#: filter and the order unrelated) reads most of the index before reaching it (22 s on
#: SQLite for a month of 370,000 tasks at 10M). A month's names carry one run of numbers, and
#: its tasks of each status one run of ids: at 10M tasks PostgreSQL walked the name index for
#: 475 ms and the status index for 220 ms to find page 1 of a month. Under these filters the
#: matches are sorted, however many, unless a range alone is read by day runs (``page_ids``);
#: the ratings, whose low and high values hold few tasks each, are left to the planner above
#: ``SORT_ROWS``: it walks them in a few ms.
CORRELATED = {"updated_at": DATE_RANGE, "task_name": DATE_RANGE, "status": DATE_RANGE}
#: Filters whose matches gather in one stretch of a sort column's index (a name search along
#: the names, a status set along the statuses, a month along the creation times and the
#: ratings): a walk's estimate, which spreads the matches evenly, does not hold for them. (A
#: date range under the ``CORRELATED`` orders is sorted before this is asked.)
CLUSTERED = {
    "task_name": frozenset({"search"}),
    "status": frozenset({"status"}),
    "quality_rating": frozenset({"rating_min", "rating_max"}) | DATE_RANGE,
    "created_at": DATE_RANGE,
}
#: Filters that are a range of the sort column itself: its index holds exactly the matching
#: rows, in the page's order, from the range's start. While they are the only filters in use,
#: the page is read there (a month at 10M tasks sorted its 370,000 rows for each page).
OWN_RANGE = {"created_at": DATE_RANGE}
#: A walk reads one table row per index entry to test the filters, where a sort may read its
#: keys off a covering index: it is taken when it reads this many times fewer entries.
WALK_ADVANTAGE = 4
#: Matches sorted in a millisecond or two: no walk is weighed against them (it would cost a
#: query for the number of tasks).
SORT_ALWAYS = 5_000


def plan(
    count: int | None,
    total,
    offset: int,
    limit: int,
    sort_by: str,
    filters: frozenset[str] = frozenset(),
) -> str:
    """``"sort"``, ``"walk"`` or ``"planner"`` for a page starting ``offset`` rows in.

    ``total()`` gives the number of tasks; it is asked only when a walk is possible.
    ``filters`` names the filters in use.
    """
    if CORRELATED.get(sort_by, frozenset()) & filters:
        return "sort"
    if filters and filters <= OWN_RANGE.get(sort_by, frozenset()):
        return "walk" if connection.vendor == "sqlite" else "planner"
    if count is None:
        return "planner"
    # A walk along the sort column's index, where the filters do not gather on it.
    along = sort_by in SORT_INDEXES and total is not None
    along = along and not CLUSTERED.get(sort_by, frozenset()) & filters
    sqlite = connection.vendor == "sqlite"
    if count <= SORT_ROWS:
        # Few matches are sorted, unless a walk finds the page in far fewer entries: 19,000
        # tasks of 49 annotators sorted by name took 54 ms on SQLite (30 ms on PostgreSQL),
        # a walk 2,600 entries. (A walk reads at least offset + limit entries: the number of
        # tasks is asked only when that much could win.) PostgreSQL, whose statistics see
        # it too, is left its own plan; SQLite is made to walk.
        if (
            along
            and count > SORT_ALWAYS
            and (offset + limit) * WALK_ADVANTAGE <= count
            and (tasks := total())
            and (offset + limit) * tasks / count * WALK_ADVANTAGE <= count
        ):
            return "walk" if sqlite else "planner"
        return "sort"
    if sqlite and along and (tasks := total()) and (offset + limit) * tasks / count <= WALK_ROWS:
        return "walk"
    return "planner"


def without_index_order(qs: QuerySet) -> QuerySet:
    """The same order with each key wrapped (``COALESCE(x, x)`` is ``x``), so no index serves
    it: the database finds the rows by the filters and sorts them."""
    keys = []
    for key in qs.query.order_by:
        if (
            hasattr(key, "expression")
            and isinstance(key.expression, F)
            and key.expression.name != "id"
        ):
            wrapped = key.copy()
            wrapped.expression = Coalesce(key.expression, key.expression)
            keys.append(wrapped)
        else:
            keys.append(key)
    return qs.order_by(*keys)


def walk_ids(qs: QuerySet, start: int, stop: int, sort_by: str, index: str = "") -> list[int]:
    """SQLite: ids ``start:stop`` read along the sort column's index (or ``index``)."""
    sql, params = qs.values_list("id", flat=True)[start:stop].query.sql_with_params()
    sql = indexed_by(sql, index or SORT_INDEXES[sort_by])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def ids_between(qs: QuerySet, start: int, stop: int, how: str, sort_by: str) -> list[int]:
    if how == "walk":
        return walk_ids(qs, start, stop, sort_by)
    if how == "sort":
        qs = without_index_order(qs)
    return list(qs.values_list("id", flat=True)[start:stop])


def page_ids(
    qs: QuerySet,
    offset: int,
    limit: int,
    count: int | None = None,
    sort_by: str = "",
    total=None,
    groups=None,
    descending: bool = False,
    filters: frozenset[str] = frozenset(),
    days: list | None = None,
) -> list[int]:
    """The ids of one page, in order.

    ``total`` and ``groups`` are functions, called only when the plan needs them (each costs
    a query): the number of tasks, and the title groups of ``grouped_page_ids``. ``filters``
    names the filters in use (see ``CORRELATED``); ``days``, the UTC days a date range spans
    (``day_runs.utc_days``), lets a range alone be read as one run per day.

    Past the middle of the result (``count`` known), the page is read from the other end in
    the reverse order and flipped: ``order_tasks`` orders are exact mirror images (nulls
    included, ``id`` breaking ties), so the rows are the same and the database skips at most
    half of them.
    """
    if count == 0:
        return []  # nothing to read (and a search matching nothing has no SQL to run)
    if days is not None and sort_by in day_runs.DAY_INDEXES and filters <= DATE_RANGE:
        end = offset + limit if count is None else min(count, offset + limit)
        if end <= day_runs.MAX_RUN_ROWS:
            return day_runs.run_ids(qs, days, offset, end, sort_by)
        if count is not None and count - offset <= day_runs.MAX_RUN_ROWS:
            ids = day_runs.run_ids(qs.reverse(), days, count - end, count - offset, sort_by)
            ids.reverse()
            return ids
    if groups is not None and sort_by in GROUPED_SORTS and (count is None or count > GROUPED_ROWS):
        title_groups = groups()
        if title_groups is not None:
            field = GROUPED_SORTS[sort_by]
            if count is None or offset + limit / 2 <= count / 2:
                return grouped_page_ids(qs, offset, limit, field, title_groups, descending, filters)
            end = min(count, offset + limit)
            mirrored = list(reversed(title_groups))
            ids = grouped_page_ids(
                qs, count - end, end - offset, field, mirrored, not descending, filters
            )
            ids.reverse()
            return ids
    if count is None or offset + limit / 2 <= count / 2:
        how = plan(count, total, offset, limit, sort_by, filters)
        return ids_between(qs, offset, offset + limit, how, sort_by)
    end = min(count, offset + limit)
    start_from_end = count - end
    how = plan(count, total, start_from_end, end - offset, sort_by, filters)
    ids = ids_between(qs.reverse(), start_from_end, count - offset, how, sort_by)
    ids.reverse()
    return ids


def grouped_page_ids(
    qs: QuerySet,
    offset: int,
    limit: int,
    field: str,
    groups: list[tuple[list[int], int | None]],
    descending: bool,
    filters: frozenset[str] = frozenset(),
) -> list[int]:
    """The ids of one page of ``qs`` sorted by a related title.

    ``groups`` lists, in the page's title order, the ids in ``field`` that share each title
    and how many matching tasks they hold, or None where that was not counted. Only the
    titles the page overlaps are read, each in id order from its own offset. An uncounted
    title is counted only when the page starts past it; one the page starts in is read up
    to the page's end, and if it runs out first, its rows so far are its count. ``filters``:
    the filters in use (see ``group_ids``).
    """
    ids: list[int] = []
    start, stop = offset, offset + limit
    for related_ids, n in groups:
        if n is None and start == 0:
            read = group_ids(qs, field, related_ids, 0, stop, descending, filters)
            ids += read
            if len(read) == stop:
                break
            stop -= len(read)
            continue
        if n is None:
            n = qs.filter(in_list(field, related_ids)).count()
        if start < n:
            ids += group_ids(qs, field, related_ids, start, min(stop, n), descending, filters)
        if stop <= n:
            break
        start, stop = max(0, start - n), stop - n
    return ids


def group_ids(
    qs: QuerySet,
    field: str,
    related_ids: list[int],
    start: int,
    stop: int,
    descending: bool,
    filters: frozenset[str] = frozenset(),
) -> list[int]:
    """Ids ``start:stop`` of the tasks of ``qs`` under one title, in id order.

    SQLite keeps only average statistics, so under a filter on a few busy annotators it
    read the annotator index and sorted all their tasks of the project (115,000 rows) for
    one page. Its index on ``field`` holds each value's tasks in id order, so each value is
    walked along it (``INDEXED BY``) and the runs are merged. Not when the date range
    bounds the end the walk starts from (``filters``): ids grow with creation time, so the
    range's tasks of a project sit at one stretch of that index, after all the project's
    earlier (or later) tasks (91 ms for a month's 15,000 at 10M tasks, where the (project,
    creation) index finds and sorts them in 1 ms). A range open at that end matches from
    the walk's first entries on (since a date, newest first: 34 ms at 10M, 145 ms sorted).
    """
    order = "-id" if descending else "id"
    start_bound = "created_to" if descending else "created_from"
    if connection.vendor != "sqlite" or stop > WALK_ROWS or start_bound in filters:
        in_group = qs.filter(in_list(field, related_ids)).order_by(order)
        return list(in_group.values_list("id", flat=True)[start:stop])
    index = column_index(field)
    runs = [
        walk_ids(qs.filter(**{field: pk}).order_by(order), 0, stop, "", index=index)
        for pk in related_ids
    ]
    return list(islice(heapq.merge(*runs, reverse=descending), start, stop))


@functools.cache
def column_index(column: str) -> str:
    """SQLite: the name of the task table's index on ``column`` alone (a foreign key's)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TASKS)
    return next(
        name
        for name, info in sorted(constraints.items())
        if info["index"] and info["columns"] == [column]
    )
