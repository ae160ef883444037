"""One parsed explorer request (filters + sort [+ page]), shared by the list API and the export."""

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Count, QuerySet, Sum
from rest_framework import serializers

from interviews.models import Job

from . import day_runs, paging, selectors
from .filters import TaskFilterSet, form_errors
from .lookups import in_list
from .models import Annotator, Dataset

#: Matching tasks up to which a sort by title counts them per project or dataset itself;
#: above it the page reads title by title and counts only the titles it skips (page 1 counts
#: none, where the grouped count was a second pass over every match).
GROUP_COUNT_ROWS = 20_000
#: The row holding each grouped sort's title, and the title's field.
TITLED = {
    "job_id": (Job, "title"),
    "dataset_id": (Dataset, "title"),
    "annotator_id": (Annotator, "name"),
}


class InvalidParameters(Exception):
    """Bad query parameters; ``errors`` maps each offending parameter to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class ExplorerQuery:
    filterset: TaskFilterSet
    options: dict

    @property
    def sort_by(self) -> str:
        return self.options["sort_by"]

    @property
    def sort_dir(self) -> str:
        return self.options["sort_dir"]

    def tasks(self) -> QuerySet:
        """The filtered, ordered tasks: exactly the rows a page shows, across all pages."""
        return selectors.order_tasks(self.filterset.qs, self.sort_by, self.sort_dir)

    @cached_property
    def bounded(self) -> list[tuple] | None:
        """Every match's row, starting (id, project, annotator, dataset), in the page's
        order, when a task-name search bounds the matches to its id list
        (``selectors.SEARCH_NAME_IDS``) and matched nothing else; None otherwise. One
        query reads them, and the count, the page's ids and the menus' values come from
        these rows: otherwise each is another pass over the same ids (14,000 at 10M tasks:
        three passes of 15-27 ms each).

        When the search is the only filter and the order is by a timestamp, the name search
        itself reads these rows with their sort keys and they are put in order here: no
        second pass (at 10M tasks that pass probed 14,000 ids for 30 ms)."""
        keyed = self.filterset.in_use == {"search"} and self.sort_by in selectors.KEYED_SORTS
        matches = self.filterset.search_matches(with_rows=keyed)
        if not matches or not matches["id"]:
            return None
        if any(ids for column, ids in matches.items() if column != "id"):
            return None
        rows = self.filterset.name_rows
        if keyed and rows is not None:
            return selectors.in_sort_order(rows, self.sort_by, self.sort_dir == "desc")
        return list(self.tasks().values_list("id", "job_id", "annotator_id", "dataset_id"))

    def count(self) -> int:
        """How many tasks match: from the tally when it can answer, else counted."""
        if self.bounded is not None:
            return len(self.bounded)
        groups = self.filterset.count_scope()
        if groups is not None:
            return selectors.tally_count(groups)
        by_day = self.filterset.day_count()
        if by_day is not None:
            return by_day
        return self.filterset.qs.count()

    def title_groups(self, count: int) -> list[tuple[list[int], int | None]] | None:
        """For a sort by project or dataset title (or by annotator name under an annotator
        filter): the project (dataset, annotator) ids sharing each title, in the page's
        order, with how many matching tasks they hold. From the tally when it can answer,
        else one grouped count up to ``GROUP_COUNT_ROWS`` matches; above that the groups are
        left uncounted (None) and the page counts only the ones it starts past."""
        field = paging.GROUPED_SORTS.get(self.sort_by)
        if field is None:
            return None
        model, title = TITLED[field]
        scope = self.filterset.tally_scope()
        if field == "annotator_id":
            chosen = self.filterset.form.cleaned_data.get("annotator")
            if not chosen:
                return None
            candidates = dict.fromkeys(chosen)
            by_annotator = self.filterset.annotator_tally_scope()
            if by_annotator is not None:
                counted = by_annotator.order_by().values(field).annotate(n=Sum("n"))
                candidates = {pk: 0 for pk in chosen} | self._counted(field, counted)
        elif scope is not None:
            candidates = self._counted(field, scope.order_by().values(field).annotate(n=Sum("n")))
        elif count <= GROUP_COUNT_ROWS:
            candidates = self._counted(field)
        elif (present := self._present(field)) is not None:
            candidates = dict.fromkeys(present)
        else:
            return None
        by_title: dict[str, list[int]] = {}
        for pk, name in (
            model.objects.filter(in_list("pk", candidates))
            .order_by(title, "pk")
            .values_list("pk", title)
        ):
            by_title.setdefault(name, []).append(pk)
        groups = [
            (ids, None if None in (n := [candidates[i] for i in ids]) else sum(n))
            for ids in by_title.values()
        ]
        if self.sort_dir == "desc":
            groups.reverse()
        return groups

    def _counted(self, field: str, per_value=None) -> dict[int, int]:
        """Matching tasks per value of ``field`` (one grouped count), values without any left out."""
        if per_value is None:
            per_value = self.filterset.qs.order_by().values(field).annotate(n=Count("id"))
        return {value: n for value, n in per_value.values_list(field, "n") if n}

    def _present(self, field: str) -> list[int] | None:
        """The projects (datasets) that hold tasks under the filters the tally can apply: the
        candidates of an uncounted title order (None where there is no tally)."""
        scope = self.filterset.tally_scope(self.filterset.in_use - TaskFilterSet.TALLY_FILTERS)
        if scope is None:
            return None
        return list(scope.filter(n__gt=0).order_by().values_list(field, flat=True).distinct())

    def page_rows(self, offset: int, limit: int, count: int) -> list[dict]:
        """The rows ``offset:offset + limit`` of the result (``count`` rows in all)."""
        if self.bounded is not None:
            return selectors.rows_of([row[0] for row in self.bounded[offset : offset + limit]])
        return selectors.page_rows(
            self.tasks(),
            offset,
            limit,
            count,
            sort_by=self.sort_by,
            total=selectors.total_tasks,
            groups=lambda: self.title_groups(count),
            descending=self.sort_dir == "desc",
            filters=self.filterset.paging_filters,
            days=day_runs.utc_days(*self.filterset.creation_range()),
        )

    def facets(self, count: int | None = None) -> dict:
        """Facets; ``count`` (the listed rows) lets facets over those same rows pick the
        plan that suits few rows."""
        if self.bounded is not None:
            return selectors.facets(
                *self.filterset.facet_scopes(),
                sharing=self.filterset.facets_sharing_rows(),
                triples={row[1:4] for row in self.bounded},
            )
        if count is None or count > selectors.DISTINCT_FACET_ROWS:
            return selectors.facets(*self.filterset.facet_scopes())
        return selectors.facets(
            *self.filterset.facet_scopes(),
            listed=self.filterset.qs,
            sharing=self.filterset.facets_sharing_rows(),
        )


PAGING = {"page", "page_size"}


def parse_query(
    params, options_serializer: type[serializers.Serializer], also_allowed=()
) -> ExplorerQuery:
    """Validate every parameter; unknown names are reported too, so a typo never passes silently."""
    allowed = set(TaskFilterSet.base_filters) | set(options_serializer().fields) | set(also_allowed)
    errors: dict[str, list[str]] = {}
    for name in params:
        if name in allowed:
            continue
        if name in PAGING:
            errors[name] = ["The export returns every page; leave out page and page_size."]
        else:
            errors[name] = ["Unknown parameter."]
    filterset = TaskFilterSet(params, queryset=selectors.all_tasks())
    if not filterset.is_valid():
        errors.update(form_errors(filterset.form))
    options = options_serializer(data=params)
    if not options.is_valid():
        errors.update({name: [str(m) for m in msgs] for name, msgs in options.errors.items()})
    if errors:
        raise InvalidParameters(errors)
    return ExplorerQuery(filterset=filterset, options=dict(options.validated_data))
