"""One parsed explorer request (filters + sort [+ page]), shared by the list API and the export."""

from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import serializers

from . import selectors
from .filters import TaskFilterSet, form_errors


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

    def count(self) -> int:
        """How many tasks match: from the tally when it can answer, else counted."""
        groups = self.filterset.tally_scope()
        if groups is not None:
            return selectors.tally_count(groups)
        return self.filterset.qs.count()

    def facets(self, count: int | None = None) -> dict:
        """Facets; ``count`` (the listed rows) lets facets over those same rows pick the
        plan that suits few rows."""
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
