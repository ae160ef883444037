"""How many tasks each value of one filter menu would select, under the other filters.

The list answer's facets say which values are present; counting them costs a pass over the
matching rows, so the page asks for one menu's counts only when that menu is opened.
Projects and tags are summed from the task tally when it can express the filters (a few
hundred groups whatever the number of tasks); otherwise the tasks are grouped and counted.

Grouping millions of tasks takes seconds, more than a menu's numbers are worth: counting has
a time budget, and past it the answer says so (``counts`` null) and the menu lists its values
without numbers.
"""

import contextlib
import time
from collections import defaultdict

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Sum

from interviews.models import Job

from .filters import TaskFilterSet
from .models import Annotator, Dataset

FACETS = ("projects", "annotators", "tags")
#: How long the counting queries of one request may run.
BUDGET_MS = 1500


class OverBudget(Exception):
    """Counting was stopped at the time budget."""


@contextlib.contextmanager
def time_budget(ms: int):
    """Stop the queries run inside after ``ms`` milliseconds, raising ``OverBudget``.

    PostgreSQL cancels the statement itself (``statement_timeout``, local to a transaction);
    SQLite interrupts it from a progress handler that checks the clock every few thousand
    virtual-machine steps.
    """
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                before = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(ms)])
                yield
                # Inside an outer transaction the setting would outlive this block.
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            deadline = time.monotonic() + ms / 1000
            raw = connection.connection
            raw.set_progress_handler(lambda: time.monotonic() > deadline, 4000)
            try:
                yield
            finally:
                raw.set_progress_handler(None, 0)
        else:
            yield
    except OperationalError as exc:
        if _is_stop(exc):
            raise OverBudget from exc
        raise


def _is_stop(exc: OperationalError) -> bool:
    cause = exc.__cause__
    name = type(cause).__name__ if cause is not None else ""
    return name == "QueryCanceled" or "interrupted" in str(exc)


def _per(column: str, tasks, tally) -> dict[int, int]:
    """Task count per value of ``column`` (a task and tally column), zeros left out."""
    if tally is not None:
        rows = tally.order_by().values(column).annotate(n=Sum("n")).filter(n__gt=0)
    else:
        rows = tasks.order_by().values(column).annotate(n=Count("id"))
    return {row[column]: row["n"] for row in rows}


def facet_counts(
    filterset: TaskFilterSet, facet: str, budget_ms: int = BUDGET_MS
) -> list[dict] | None:
    """``[{value, label, count}]`` for ``facet``, most tasks first, then by label; None when
    counting would take longer than ``budget_ms``."""
    try:
        with time_budget(budget_ms):
            return _facet_counts(filterset, facet)
    except OverBudget:
        return None


def _facet_counts(filterset: TaskFilterSet, facet: str) -> list[dict]:
    tasks_for, _datasets_for, tallies_for = filterset.facet_scopes()
    tasks, tally = tasks_for[facet], tallies_for.get(facet)
    if facet == "projects":
        counts = _per("job_id", tasks, tally)
        labels = dict(Job.objects.filter(pk__in=list(counts)).values_list("pk", "title"))
        items = [(str(pk), labels[pk], n) for pk, n in counts.items()]
    elif facet == "annotators":
        counts = _per("annotator_id", tasks, tally)
        labels = dict(Annotator.objects.filter(pk__in=list(counts)).values_list("pk", "name"))
        items = [(str(pk), labels[pk], n) for pk, n in counts.items()]
    else:
        per_dataset = _per("dataset_id", tasks, tally)
        per_tag: dict[str, int] = defaultdict(int)
        links = Dataset.tags.through.objects.filter(dataset_id__in=list(per_dataset))
        for dataset_id, tag in links.values_list("dataset_id", "tag__name"):
            per_tag[tag] += per_dataset[dataset_id]
        items = [(tag, tag, n) for tag, n in per_tag.items()]
    items.sort(key=lambda item: (-item[2], item[1].casefold(), item[0]))
    return [{"value": value, "label": label, "count": n} for value, label, n in items]
