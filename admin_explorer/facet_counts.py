"""How many tasks each value of one filter menu would select, under the other filters.

The list answer's facets say which values are present; counting them costs a pass over the
matching rows, so the page asks for one menu's counts only when that menu is opened.
Projects and tags are summed from the task tally when it can express the filters (a few
hundred groups whatever the number of tasks); otherwise the tasks are grouped and counted.
"""

from collections import defaultdict

from django.db.models import Count, Sum

from interviews.models import Job

from .filters import TaskFilterSet
from .models import Annotator, Dataset

FACETS = ("projects", "annotators", "tags")


def _per(column: str, tasks, tally) -> dict[int, int]:
    """Task count per value of ``column`` (a task and tally column), zeros left out."""
    if tally is not None:
        rows = tally.order_by().values(column).annotate(n=Sum("n")).filter(n__gt=0)
    else:
        rows = tasks.order_by().values(column).annotate(n=Count("id"))
    return {row[column]: row["n"] for row in rows}


def facet_counts(filterset: TaskFilterSet, facet: str) -> list[dict]:
    """``[{value, label, count}]`` for ``facet``, most tasks first, then by label."""
    tasks_for, _datasets_for, tallies_for = filterset.facet_scopes()
    tasks, tally = tasks_for[facet], tallies_for.get(facet)
    if facet == "projects":
        counts = _per("job_id", tasks, tally)
        labels = dict(Job.objects.filter(pk__in=list(counts)).values_list("pk", "title"))
        items = [(str(pk), labels[pk], n) for pk, n in counts.items()]
    elif facet == "annotators":
        counts = _per("annotator_id", tasks, None)
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
