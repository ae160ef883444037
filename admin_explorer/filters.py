"""The explorer's FilterSet: parses and validates every filter parameter, then delegates to selectors."""

import datetime as dt
from functools import cached_property

import django_filters
from django import forms
from django.db.models import Q

from . import selectors, tally
from .fields import (
    ChoiceListField,
    DateOrDateTimeField,
    IdListField,
    TagListField,
)
from .models import (
    AnnotationTask,
    AnnotatorProjectTally,
    AnnotatorTally,
    Dataset,
    DayTally,
    MonthTally,
    RatingTally,
    TaskTally,
)


class IdListFilter(django_filters.Filter):
    field_class = IdListField


class TagListFilter(django_filters.Filter):
    field_class = TagListField


class StatusListFilter(django_filters.Filter):
    field_class = ChoiceListField


class DateBoundFilter(django_filters.Filter):
    field_class = DateOrDateTimeField


class ExplorerFilterForm(forms.Form):
    """Cross-field checks: an empty range is a mistake worth reporting, not an empty page."""

    def clean(self):
        data = super().clean()
        low, high = data.get("rating_min"), data.get("rating_max")
        if low is not None and high is not None and low > high:
            self.add_error("rating_min", "rating_min must not be greater than rating_max.")
        start, end = data.get("created_from"), data.get("created_to")
        if start is not None and end is not None and start.start() >= end.end_exclusive():
            self.add_error("created_from", "created_from must not be after created_to.")
        return data


class TaskFilterSet(django_filters.FilterSet):
    project = IdListFilter(
        method="filter_project", help_text="Project (job) ids; repeat or comma-separate (OR)."
    )
    annotator = IdListFilter(
        method="filter_annotator", help_text="Annotator ids; repeat or comma-separate (OR)."
    )
    tags = TagListFilter(
        method="filter_tags",
        help_text="Comma-separated tag names; the dataset must carry all of them (see tags_mode).",
    )
    tags_mode = django_filters.ChoiceFilter(
        choices=[("all", "all"), ("any", "any")],
        method="filter_nothing",
        help_text="`all` (default): every tag; `any`: at least one.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Case-insensitive substring of project title, dataset title, annotator name or task name.",
    )
    status = StatusListFilter(
        method="filter_status",
        choices=AnnotationTask.Status.choices,
        help_text="Task statuses; repeat or comma-separate (OR).",
    )
    rating_min = django_filters.NumberFilter(
        method="filter_nothing",
        min_value=0,
        max_value=5,
        help_text="Inclusive lower bound of quality_rating; unrated tasks are excluded.",
    )
    rating_max = django_filters.NumberFilter(
        method="filter_nothing",
        min_value=0,
        max_value=5,
        help_text="Inclusive upper bound of quality_rating; unrated tasks are excluded.",
    )
    created_from = DateBoundFilter(
        method="filter_created_from",
        help_text="ISO date (whole day, server time zone) or datetime; inclusive.",
    )
    created_to = DateBoundFilter(
        method="filter_created_to",
        help_text="ISO date (whole day, server time zone) or datetime; inclusive.",
    )

    #: Which filters each facet ignores, so a menu still lists the values one could add.
    FACET_IGNORES = {"projects": {"project"}, "annotators": {"annotator"}, "tags": {"tags"}}
    #: The name search's rows when it read them (``search_matches(with_rows=True)``).
    name_rows: list[tuple] | None = None
    #: The filters the task tally can answer: each is a property of a (project, dataset,
    #: status) group, and the tally has the same column names as the task table.
    TALLY_FILTERS = frozenset({"project", "tags", "tags_mode", "status"})
    #: The filters the annotator tally can answer (its columns have the task table's names).
    ANNOTATOR_TALLY_FILTERS = frozenset({"annotator", "status"})
    #: The filters the day tally can answer (the range by whole days, the status by group).
    DATE_FILTERS = frozenset({"created_from", "created_to"})
    DAY_TALLY_FILTERS = DATE_FILTERS | {"status"}
    #: The filters the annotator-project tally can answer (for the annotator menu).
    ANNOTATOR_PROJECT_FILTERS = frozenset({"project", "annotator"})
    #: The filters the month tally can answer (the range by whole months).
    MONTH_TALLY_FILTERS = DATE_FILTERS | TALLY_FILTERS
    #: The filters the rating tally can answer.
    RATING_FILTERS = frozenset({"rating_min", "rating_max"})
    RATING_TALLY_FILTERS = RATING_FILTERS | {"status"}
    #: The menus whose values are tally columns (projects, and tags through datasets).
    TALLY_FACETS = frozenset({"projects", "tags"})

    class Meta:
        model = AnnotationTask
        fields: list[str] = []
        form = ExplorerFilterForm

    def filter_nothing(self, queryset, name, value):
        # Read together with a partner field in filter_queryset.
        return queryset

    def filter_project(self, queryset, name, value):
        return selectors.filter_in(queryset, "job_id", value)

    def filter_annotator(self, queryset, name, value):
        return selectors.filter_in(queryset, "annotator_id", value)

    def filter_status(self, queryset, name, value):
        return selectors.filter_in(queryset, "status", value)

    def filter_tags(self, queryset, name, value):
        return selectors.filter_tags(queryset, value, ids=self.tagged_dataset_ids())

    def tagged_dataset_ids(self) -> list[int]:
        """The datasets the tag filter allows; facets apply it again, so look them up once."""
        if getattr(self, "_tagged_ids", None) is None:
            data = self.form.cleaned_data
            self._tagged_ids = selectors.dataset_ids_with_tags(
                data["tags"], data.get("tags_mode") or "all"
            )
        return self._tagged_ids

    def filter_search(self, queryset, name, value):
        # Facets and tallies filter again: the condition (up to 20,000 ids) is built once.
        if getattr(self, "_search_condition", None) is None:
            self._search_condition = selectors.search_condition(value, self.search_matches())
        if self._search_condition is None:
            return queryset
        return queryset.filter(self._search_condition)

    def search_matches(self, with_rows: bool = False) -> dict | None:
        """The search's matching ids (``selectors.search_matches``), None without a search.
        Facets apply the filters again; the small tables are looked up once per request.
        ``with_rows``: the task names are searched with ``selectors.task_rows_with_name``,
        kept in ``name_rows`` (when this is the request's first look at the search)."""
        text = (self.form.cleaned_data.get("search") or "").strip()
        if not text:
            return None
        if getattr(self, "_search_matches", None) is None:
            rows = selectors.task_rows_with_name(text) if with_rows else None
            self._search_matches = selectors.search_matches(text, name_rows=rows)
            self.name_rows = rows
        return self._search_matches

    def _tally_filters(self, columns: frozenset[str], filters: frozenset[str]) -> frozenset[str]:
        """``filters``, plus the search when a tally with ``columns`` can apply it: it matched
        no task name and only values of those columns (a surname: annotators only)."""
        matches = self.search_matches()
        if matches is None or matches["id"] != []:
            return filters
        if any(ids for column, ids in matches.items() if column != "id" and column not in columns):
            return filters
        return filters | {"search"}

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=value.start())

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=value.end_exclusive())

    def creation_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The date range as ``[start, end)`` (None where a bound is not given)."""
        data = self.form.cleaned_data
        start = data["created_from"].start() if data.get("created_from") else None
        end = data["created_to"].end_exclusive() if data.get("created_to") else None
        return start, end

    def filter_queryset(self, queryset, skip: frozenset[str] = frozenset()):
        for name, value in self.form.cleaned_data.items():
            if name in skip:
                continue
            queryset = self.filters[name].filter(queryset, value)
        if not skip & {"rating_min", "rating_max"}:
            queryset = selectors.filter_rating(
                queryset,
                self.form.cleaned_data.get("rating_min"),
                self.form.cleaned_data.get("rating_max"),
            )
        return queryset

    def dataset_scope(self, skip: frozenset[str] = frozenset()):
        """Datasets allowed by the dataset-level filters (project, tags) not in ``skip``."""
        data = self.form.cleaned_data
        datasets = Dataset.objects.all()
        if "project" not in skip and data.get("project"):
            datasets = datasets.filter(job_id__in=data["project"])
        if "tags" not in skip and data.get("tags"):
            datasets = datasets.filter(pk__in=self.tagged_dataset_ids())
        return datasets

    def tally_scope(self, skip: frozenset[str] = frozenset()):
        """The tally groups holding the matching tasks (filters in ``skip`` left out), or None
        when a filter in use is not a group property or this database keeps no tally (a
        search is one when it matched only projects and datasets)."""
        allowed = self._tally_filters(frozenset(tally.GROUPS.columns), self.TALLY_FILTERS)
        return self._groups(TaskTally, allowed, skip)

    def annotator_tally_scope(self, skip: frozenset[str] = frozenset()):
        """The annotator tally's groups holding the matching tasks, or None when a filter in
        use (other than those in ``skip``) is not annotator or status."""
        allowed = self._tally_filters(
            frozenset(tally.ANNOTATORS.columns), self.ANNOTATOR_TALLY_FILTERS
        )
        return self._groups(AnnotatorTally, allowed, skip)

    def _groups(self, model, allowed: frozenset[str], skip: frozenset[str] = frozenset()):
        """``model``'s tally groups filtered like the tasks, or None when a filter in use (other
        than those in ``skip``) is not in ``allowed`` or this database keeps no tally."""
        if not tally.available() or self.in_use - skip - allowed:
            return None
        return self.filter_queryset(model.objects.all(), skip)

    def count_scope(self):
        """Tally groups whose ``n`` add up to the matching tasks, from whichever tally can
        express the filters in use; None when neither can (the tasks are counted)."""
        for scope in (self.tally_scope(), self.annotator_tally_scope(), self._rating_scope()):
            if scope is not None:
                return scope
        return None

    def _rating_scope(self):
        """The rating tally's groups under a rating bound (and at most a status filter)."""
        if not self.in_use & self.RATING_FILTERS:
            return None
        groups = self._groups(RatingTally, self.RATING_TALLY_FILTERS)
        if groups is None:
            return None
        # The unrated tasks' group (-1) is below every bound.
        return groups.filter(quality_rating__gte=0)

    def day_count(self) -> int | None:
        """The matching tasks under a date range, from a period tally: the day tally while at
        most a status filter comes with the range, else the month tally while the others are
        project, tag and status filters. The tally gives the whole periods inside the range;
        the tasks of the part-periods at its ends (another time zone's midnight, a datetime
        bound, a month begun) are counted. None when neither tally applies."""
        if not self.in_use & self.DATE_FILTERS:
            return None
        days = self._groups(DayTally, self.DAY_TALLY_FILTERS, self.DATE_FILTERS)
        if days is not None:
            return self._period_count(days, "created_day", _day_start, _next_day)
        allowed = self._tally_filters(frozenset(tally.MONTHS.columns), self.MONTH_TALLY_FILTERS)
        months = self._groups(MonthTally, allowed, self.DATE_FILTERS)
        if months is not None:
            return self._period_count(months, "created_month", _month_start, _next_month)
        return None

    def _period_count(self, periods, field: str, period_start, next_period) -> int | None:
        """``periods`` (tally groups already filtered but for the dates) summed over the whole
        UTC periods inside the range, plus the tasks of its part-periods; None when the range
        holds no whole period (the tasks are counted)."""
        start, end = self.creation_range()
        first = stop = None
        if start is not None:
            first = period_start(start)
            if _midnight(first) != start.astimezone(dt.UTC):
                first = next_period(first)
        if end is not None:
            stop = period_start(end)
        if first is not None and stop is not None and first >= stop:
            return None
        if first is not None:
            periods = periods.filter(**{f"{field}__gte": first})
        if stop is not None:
            periods = periods.filter(**{f"{field}__lt": stop})
        total = selectors.tally_count(periods)
        edges = Q()
        if start is not None and start < _midnight(first):
            edges |= Q(created_at__gte=start, created_at__lt=_midnight(first))
        if end is not None and _midnight(stop) < end:
            edges |= Q(created_at__gte=_midnight(stop), created_at__lt=end)
        if edges:
            tasks = self.filter_queryset(self.queryset, self.DATE_FILTERS)
            total += tasks.filter(edges).count()
        return total

    @cached_property
    def in_use(self) -> frozenset[str]:
        """The parameters given a value (a rating bound of 0 counts: it excludes unrated tasks)."""
        return frozenset(
            name for name, value in self.form.cleaned_data.items() if value not in (None, "", [])
        )

    #: The filter a search acts as when it matched no task name, by the column it matched.
    SEARCH_ACTS_AS = {"job_id": "project", "dataset_id": "tags", "annotator_id": "annotator"}

    @property
    def paging_filters(self) -> frozenset[str]:
        """The filters in use, as ``paging`` weighs a walk: a search that matched no task name
        (a surname: only annotators) does not gather its matches along the names; it filters
        like the filters of the columns it matched."""
        matches = self.search_matches()
        if matches is not None and matches["id"] == []:
            acts_as = {self.SEARCH_ACTS_AS[column] for column, ids in matches.items() if ids}
            return self.in_use - {"search"} | acts_as
        return self.in_use

    def facet_scopes(self) -> tuple[dict, dict, dict]:
        """Per facet: the tasks and the datasets matching every filter but the facet's own, and
        for every menu a tally can list, its groups (None where the filters rule it out)."""
        tasks, datasets, tallies = {}, {}, {}
        for facet, ignored in self.FACET_IGNORES.items():
            skip = frozenset(ignored)
            tasks[facet] = self.filter_queryset(self.queryset, skip)
            datasets[facet] = self.dataset_scope(skip)
            if facet in self.TALLY_FACETS:
                tallies[facet] = self.tally_scope(skip)
            elif facet == "annotators":
                tallies[facet] = self.annotator_tally_scope(skip)
                if tallies[facet] is None:
                    tallies[facet] = self._groups(
                        AnnotatorProjectTally, self.ANNOTATOR_PROJECT_FILTERS, skip
                    )
        return tasks, datasets, tallies

    def facets_sharing_rows(self) -> frozenset[str]:
        """Facets whose own filter is not in use: they read exactly the listed rows."""
        return frozenset(
            facet for facet, ignored in self.FACET_IGNORES.items() if not ignored & self.in_use
        )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _day_start(moment: dt.datetime) -> dt.date:
    """The UTC day ``moment`` falls in."""
    return moment.astimezone(dt.UTC).date()


def _next_day(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def _month_start(moment: dt.datetime) -> dt.date:
    """The first day of the UTC month ``moment`` falls in."""
    return _day_start(moment).replace(day=1)


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {
        field: [error["message"] for error in errors]
        for field, errors in form.errors.get_json_data(escape_html=False).items()
    }
