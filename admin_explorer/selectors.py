"""Read-side queries of the explorer: filtering, ordering, facets and row shaping.

Rows are read with ``values_list`` (no model instances) so a page and a full export share
one row format, and tags are looked up per dataset, not per task, so queries never grow
with the number of rows.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from interviews.models import Job

from .models import AnnotationTask, Annotator, Dataset, Tag

DatasetTag = Dataset.tags.through

#: API sort names -> ORM paths. ``id`` is always appended as the tie-breaker.
SORT_FIELDS = {
    "task_name": "name",
    "status": "status",
    "quality_rating": "quality_rating",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "project_title": "job__title",
    "dataset_title": "dataset__title",
    "annotator_name": "annotator__name",
}
DEFAULT_SORT = "created_at"
DEFAULT_DIR = "desc"

#: The columns of a result row, in output order (also the CSV header).
COLUMNS = (
    "task_id",
    "task_name",
    "status",
    "quality_rating",
    "created_at",
    "updated_at",
    "submitted_at",
    "project_id",
    "project_title",
    "dataset_id",
    "dataset_title",
    "dataset_tags",
    "annotator_id",
    "annotator_name",
)
# What values_list reads for each row; dataset_tags is filled in from the per-dataset map.
_VALUE_PATHS = (
    "id",
    "name",
    "status",
    "quality_rating",
    "created_at",
    "updated_at",
    "submitted_at",
    "job_id",
    "job__title",
    "dataset_id",
    "dataset__title",
    "annotator_id",
    "annotator__name",
)
_TAGS_AT = COLUMNS.index("dataset_tags")


def all_tasks() -> QuerySet[AnnotationTask]:
    return AnnotationTask.objects.all()


def filter_in(qs: QuerySet, field: str, values: Sequence) -> QuerySet:
    return qs.filter(**{f"{field}__in": list(values)}) if values else qs


def filter_tags(qs: QuerySet, names: Sequence[str], mode: str = "all") -> QuerySet:
    """Datasets carrying all (or any) of ``names``, as an ``Exists`` per tag: no join, no DISTINCT."""
    if not names:
        return qs
    names = list(dict.fromkeys(names))
    if mode == "any":
        conditions = [
            Exists(DatasetTag.objects.filter(dataset_id=OuterRef("pk"), tag__name__in=names))
        ]
    else:
        conditions = [
            Exists(DatasetTag.objects.filter(dataset_id=OuterRef("pk"), tag__name=name))
            for name in names
        ]
    datasets = Dataset.objects.filter(*conditions).values("pk")
    return qs.filter(dataset_id__in=datasets)


def filter_search(qs: QuerySet, text: str) -> QuerySet:
    """Case-insensitive substring over task name and the project, dataset and annotator titles.

    The three small tables are searched in subqueries, so only the task name is matched row by row.
    """
    text = text.strip()
    if not text:
        return qs
    return qs.filter(
        Q(name__icontains=text)
        | Q(job_id__in=Job.objects.filter(title__icontains=text).values("pk"))
        | Q(dataset_id__in=Dataset.objects.filter(title__icontains=text).values("pk"))
        | Q(annotator_id__in=Annotator.objects.filter(name__icontains=text).values("pk"))
    )


def filter_rating(qs: QuerySet, low: Decimal | None, high: Decimal | None) -> QuerySet:
    if low is not None:
        qs = qs.filter(quality_rating__gte=low)
    if high is not None:
        qs = qs.filter(quality_rating__lte=high)
    return qs


def order_tasks(qs: QuerySet, sort_by: str = DEFAULT_SORT, sort_dir: str = DEFAULT_DIR) -> QuerySet:
    """Order by one column with ``id`` as the tie-breaker in the same direction.

    Nulls sort as the largest value on every database (PostgreSQL's default), so the
    ``(column, id)`` indexes serve both directions.
    """
    path = SORT_FIELDS[sort_by]
    if sort_dir == "asc":
        return qs.order_by(F(path).asc(nulls_last=True), F("id").asc())
    return qs.order_by(F(path).desc(nulls_first=True), F("id").desc())


def row_values(qs: QuerySet) -> QuerySet:
    return qs.values_list(*_VALUE_PATHS)


def tags_by_dataset(dataset_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """Tag names per dataset, sorted; all datasets when ``dataset_ids`` is None."""
    links = DatasetTag.objects.order_by("dataset_id", "tag__name")
    if dataset_ids is not None:
        links = links.filter(dataset_id__in=set(dataset_ids))
    result: dict[int, list[str]] = {}
    for dataset_id, name in links.values_list("dataset_id", "tag__name"):
        result.setdefault(dataset_id, []).append(name)
    return result


def shape_row(values: tuple, tags: dict[int, list[str]]) -> tuple:
    """A ``values_list`` tuple in ``COLUMNS`` order, with the dataset's tags inserted."""
    return (*values[:_TAGS_AT], tags.get(values[9], []), *values[_TAGS_AT:])


def page_rows(qs: QuerySet, offset: int, limit: int) -> list[dict]:
    """One page as dicts: two queries (rows, then tags of the page's datasets) at any page size."""
    values = list(row_values(qs)[offset : offset + limit])
    tags = tags_by_dataset({row[9] for row in values}) if values else {}
    return [dict(zip(COLUMNS, shape_row(row, tags), strict=True)) for row in values]


def facets(qs_for: dict[str, QuerySet]) -> dict[str, list]:
    """Projects, annotators and tags present in the rows matching the *other* filters.

    ``qs_for`` maps each facet to the task queryset filtered by everything except that facet.
    """
    projects = (
        Job.objects.filter(Exists(qs_for["projects"].filter(job_id=OuterRef("pk"))))
        .order_by("title", "id")
        .values("id", "title")
    )
    annotators = (
        Annotator.objects.filter(Exists(qs_for["annotators"].filter(annotator_id=OuterRef("pk"))))
        .order_by("name", "id")
        .values("id", "name")
    )
    datasets_in_rows = Dataset.objects.filter(
        Exists(qs_for["tags"].filter(dataset_id=OuterRef("pk")))
    ).values("pk")
    tags = (
        Tag.objects.filter(
            Exists(
                DatasetTag.objects.filter(tag_id=OuterRef("pk"), dataset_id__in=datasets_in_rows)
            )
        )
        .order_by("name")
        .values_list("name", flat=True)
    )
    return {"projects": list(projects), "annotators": list(annotators), "tags": list(tags)}
