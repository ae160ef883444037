"""Read-side queries of the explorer: filtering, ordering, facets and row shaping.

Rows are read with ``values_list`` (no model instances) so a page and a full export share
one row format, and tags are looked up per dataset, not per task, so queries never grow
with the number of rows.
"""

from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from operator import itemgetter

from django.db import connection
from django.db.models import Exists, F, Field, Func, OuterRef, Q, QuerySet, Sum

from interviews.models import Job

from . import paging, tally
from .lookups import in_list
from .models import AnnotationTask, Annotator, Dataset, Tag, TaskNameIndex, TaskTally

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
#: The sort columns that can be blank (only the rating: titles and names are required).
NULLABLE_SORTS = frozenset({"quality_rating"})
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
VALUE_PATHS = (
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
    return qs.filter(in_list(field, values)) if values else qs


def datasets_with_tags(names: Sequence[str], mode: str = "all") -> QuerySet[Dataset]:
    """Datasets carrying all (or any) of ``names``: one ``Exists`` per tag, no join, no DISTINCT."""
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
    return Dataset.objects.filter(*conditions)


def dataset_ids_with_tags(names: Sequence[str], mode: str = "all") -> list[int]:
    """Ids of the datasets carrying all (or any) of ``names``, resolved on the small link table.

    A literal id list lets the task query use its ``dataset_id`` indexes; an ``IN (subquery)``
    leaves SQLite's planner on a worse index.
    """
    return list(datasets_with_tags(names, mode).order_by().values_list("pk", flat=True))


def filter_tags(qs: QuerySet, names: Sequence[str], mode: str = "all", ids=None) -> QuerySet:
    """Tasks whose dataset carries the tags: ``dataset_id IN (matching datasets)``."""
    if not names:
        return qs
    ids = dataset_ids_with_tags(names, mode) if ids is None else ids
    return qs.filter(in_list("dataset_id", ids))


#: A task-name search matching at most this many tasks is turned into a literal id list
#: (and the request reads its matches once: ``ExplorerQuery.bounded``).
SEARCH_NAME_IDS = 20_000


class OrderKey(Func):
    """A timestamp column as the database orders it, in a form Python orders the same way:
    microseconds since the epoch on PostgreSQL (exact), the stored text itself on SQLite
    (whose ``ORDER BY`` compares that text)."""

    output_field = Field()  # no converter: the key as the database gives it

    def as_sql(self, compiler, connection, **extra_context):
        template = "%(expressions)s"
        if connection.vendor == "postgresql":
            template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return super().as_sql(compiler, connection, template=template, **extra_context)


#: The sorts whose order Python reproduces from ``OrderKey``s of the name matches' rows, and
#: where in such a row (``task_rows_with_name``) each key sits.
KEYED_SORTS = {"created_at": 4, "updated_at": 5}


def task_rows_with_name(text: str) -> list[tuple]:
    """Up to ``SEARCH_NAME_IDS + 1`` tasks whose name contains ``text`` as (id, project,
    annotator, dataset, creation key, update key), in no particular order: the name search
    and the rows a search-only page needs, in one pass (``ExplorerQuery.bounded``)."""
    rows = (
        AnnotationTask.objects.filter(name_contains(text))
        .order_by()
        .values_list(
            "id",
            "job_id",
            "annotator_id",
            "dataset_id",
            OrderKey("created_at"),
            OrderKey("updated_at"),
        )
    )
    return list(rows[: SEARCH_NAME_IDS + 1])


def in_sort_order(rows: list[tuple], sort_by: str, descending: bool) -> list[tuple]:
    """``task_rows_with_name`` rows in the page's order by ``sort_by`` (a ``KEYED_SORTS``
    column), ``id`` breaking ties in the same direction, as ``order_tasks`` orders them."""
    return sorted(rows, key=itemgetter(KEYED_SORTS[sort_by], 0), reverse=descending)


def search_matches(text: str, name_rows: list[tuple] | None = None) -> dict[str, list[int] | None]:
    """Ids of the projects, datasets, annotators and tasks whose title or name contains ``text``
    (a dataset also matches by the name of one of its tags).

    The small tables are searched up front, so the task query gets literal id lists, which
    an index can serve (``IN (subquery)`` inside an ``OR`` forces a scan on PostgreSQL).
    Task names are searched once too, through a trigram index on either database: every
    query of a request (count, page, three facets) then probes ids instead of matching
    names again. ``"id"`` is None when too many names match for an id list; the name is
    then matched in each query. ``name_rows``: the caller's ``task_rows_with_name(text)``,
    which names the same tasks.
    """
    if name_rows is None:
        name_ids = list(task_ids_with_name(text)[: SEARCH_NAME_IDS + 1])
    else:
        name_ids = [row[0] for row in name_rows]
    return {
        "id": name_ids if len(name_ids) <= SEARCH_NAME_IDS else None,
        "job_id": list(Job.objects.filter(title__icontains=text).values_list("pk", flat=True)),
        "dataset_id": sorted(
            set(Dataset.objects.filter(title__icontains=text).values_list("pk", flat=True))
            | set(
                DatasetTag.objects.filter(tag__name__icontains=text).values_list(
                    "dataset_id", flat=True
                )
            )
        ),
        "annotator_id": list(
            Annotator.objects.filter(name__icontains=text).values_list("pk", flat=True)
        ),
    }


def _in_name_index(text: str) -> bool:
    """Whether SQLite's FTS5 trigram table can answer a search for ``text`` (3+ characters)."""
    return connection.vendor == "sqlite" and len(text) >= 3


def task_ids_with_name(text: str) -> QuerySet:
    """Ids of the tasks whose name contains ``text``, in no particular order.

    On SQLite, texts of three or more characters go through the FTS5 trigram table, since
    ``LIKE ... ESCAPE`` cannot use an index there; shorter ones (no trigram) are matched
    name by name, as on PostgreSQL, whose trigram index serves ``icontains`` directly.
    """
    if _in_name_index(text):
        return TaskNameIndex.objects.filter(name__match=TaskNameIndex.phrase(text)).values_list(
            "task_id", flat=True
        )
    return (
        AnnotationTask.objects.filter(name__icontains=text).order_by().values_list("pk", flat=True)
    )


def name_contains(text: str) -> Q:
    """The task-name condition for when too many names match to list their ids."""
    if _in_name_index(text):
        return Q(pk__in=task_ids_with_name(text))
    return Q(name__icontains=text)


def search_condition(text: str, matches: dict | None = None) -> Q | None:
    """The search's condition (None for a blank text): a case-insensitive substring of the
    task name, the project, dataset and annotator titles or a dataset's tag names, as the id
    lists of ``matches`` (``search_matches`` gives them when left out)."""
    text = text.strip()
    if not text:
        return None
    matches = search_matches(text) if matches is None else matches
    condition = Q(pk__in=[])  # matches nothing; OR-ed with the real conditions below
    if matches["id"] is None:
        condition = name_contains(text)
    for field, ids in matches.items():
        if ids:
            condition |= in_list(field, ids)
    return condition


def filter_rating(qs: QuerySet, low: Decimal | None, high: Decimal | None) -> QuerySet:
    if low is not None:
        qs = qs.filter(quality_rating__gte=low)
    if high is not None:
        qs = qs.filter(quality_rating__lte=high)
    return qs


def order_tasks(qs: QuerySet, sort_by: str = DEFAULT_SORT, sort_dir: str = DEFAULT_DIR) -> QuerySet:
    """Order by one column with ``id`` as the tie-breaker in the same direction.

    Blank values (an unrated task) come last in both directions: whoever sorts by rating
    wants rated tasks first, best or worst. SQLite serves both from the one ``(column, id)``
    index (it reads the nulls in a second pass); PostgreSQL has a descending index for the
    descending order (migration 0008).
    """
    path = SORT_FIELDS[sort_by]
    if sort_dir == "asc":
        return qs.order_by(F(path).asc(nulls_last=True), F("id").asc())
    if sort_by not in NULLABLE_SORTS:
        # No NULLS clause: PostgreSQL matches an index's null order even for a NOT NULL
        # column, and a backward scan of an ascending index gives DESC NULLS FIRST.
        return qs.order_by(F(path).desc(), F("id").desc())
    return qs.order_by(F(path).desc(nulls_last=True), F("id").desc())


def total_tasks() -> int | None:
    """All tasks, from the tally (None where this database keeps none)."""
    return tally_count(TaskTally.objects.all()) if tally.available() else None


def tally_count(groups: QuerySet[TaskTally]) -> int:
    """The number of tasks in ``groups`` (a filtered tally; see ``TaskFilterSet.tally_scope``)."""
    return int(groups.aggregate(total=Sum("n", default=0))["total"])


def row_values(qs: QuerySet) -> QuerySet:
    return qs.values_list(*VALUE_PATHS)


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


def page_rows(
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
) -> list[dict]:
    """One page as dicts, in three queries at any page size.

    The page's ids are found first (a "deferred join", by the plan ``paging`` picks from
    ``count`` and ``total``): skipping ``offset`` rows then walks only the ordering index
    instead of joining every skipped row to its project, dataset and annotator. Then the
    page's rows, then the tags of the page's datasets. ``total``, ``groups``, ``filters``
    and ``days``: see ``paging.page_ids``.
    """
    ids = paging.page_ids(
        qs, offset, limit, count, sort_by, total, groups, descending, filters, days
    )
    return rows_of(ids)


def rows_of(ids: list[int]) -> list[dict]:
    """The rows of the tasks ``ids`` as dicts, in that order (two queries)."""
    if not ids:
        return []
    position = {task_id: i for i, task_id in enumerate(ids)}
    values = sorted(
        row_values(AnnotationTask.objects.filter(id__in=ids).order_by()),
        key=lambda row: position[row[0]],
    )
    tags = tags_by_dataset({row[9] for row in values})
    return [dict(zip(COLUMNS, shape_row(row, tags), strict=True)) for row in values]


#: Up to this many matching rows, a facet is read as the distinct values of those rows;
#: above it, as one ``EXISTS`` probe per candidate value (each stops at its first match).
DISTINCT_FACET_ROWS = 20_000


def facets(
    tasks_for: dict[str, QuerySet],
    datasets_for: dict[str, QuerySet],
    tallies_for: dict[str, QuerySet | None],
    listed: QuerySet | None = None,
    sharing: frozenset[str] = frozenset(),
    triples: Collection[tuple[int, int, int]] | None = None,
) -> dict[str, list]:
    """Projects, annotators and tags present in the rows matching the *other* filters.

    ``tasks_for`` maps each facet to the tasks filtered by everything except that facet;
    ``datasets_for`` to the datasets those filters allow (project and tags are properties of
    a dataset); ``tallies_for`` maps the project and tag menus to the tally groups holding
    those tasks, or None where the tally cannot express the filters. Such a menu is read
    from the non-empty groups: a few hundred rows whatever the number of tasks.

    Two plans give the same answer. Each candidate project, annotator or dataset can be
    probed with ``EXISTS``, which stops at its first matching task: cheap when matches are
    common, but a value with no match walks all its tasks, so selective filters (a small
    project, a search) make this slow. The facets in ``sharing`` (whose own filter is not
    in use) read exactly the listed rows; when those are few (``listed`` is given: at most
    ``DISTINCT_FACET_ROWS``), one pass over them collecting the distinct (project,
    annotator, dataset) triples serves all of them, and names are looked up by id. A caller
    that read those rows already passes their ``triples`` instead.
    """
    groups = {
        facet: scope.filter(n__gt=0) for facet, scope in tallies_for.items() if scope is not None
    }
    if triples is None and listed is not None and sharing - groups.keys():
        triples = list(
            listed.order_by().values_list("job_id", "annotator_id", "dataset_id").distinct()
        )
    if "projects" in groups:
        projects = Job.objects.filter(pk__in=groups["projects"].values("job_id"))
    elif triples is not None and "projects" in sharing:
        projects = Job.objects.filter(in_list("pk", {t[0] for t in triples}))
    else:
        # Probed dataset by dataset: a project's matching tasks sit in a few of its
        # datasets, and the dataset-led indexes reach them directly.
        tasks_in_dataset = tasks_for["projects"].filter(
            dataset_id=OuterRef("pk"), job_id=OuterRef(OuterRef("pk"))
        )
        projects = Job.objects.filter(
            Exists(datasets_for["projects"].filter(Exists(tasks_in_dataset), job_id=OuterRef("pk")))
        )
    if "annotators" in groups:
        annotators = Annotator.objects.filter(pk__in=groups["annotators"].values("annotator_id"))
    elif triples is not None and "annotators" in sharing:
        annotators = Annotator.objects.filter(in_list("pk", {t[1] for t in triples}))
    else:
        annotators = Annotator.objects.filter(
            Exists(tasks_for["annotators"].filter(annotator_id=OuterRef("pk")))
        )
    if "tags" in groups:
        datasets_in_rows = groups["tags"].values("dataset_id")
    elif triples is not None and "tags" in sharing:
        datasets_in_rows = {t[2] for t in triples}
    else:
        datasets_in_rows = (
            datasets_for["tags"]
            .filter(Exists(tasks_for["tags"].filter(dataset_id=OuterRef("pk"))))
            .values("pk")
        )
    tags = (
        Tag.objects.filter(
            Exists(
                DatasetTag.objects.filter(tag_id=OuterRef("pk"), dataset_id__in=datasets_in_rows)
            )
        )
        .order_by("name")
        .values_list("name", flat=True)
    )
    return {
        "projects": list(projects.order_by("title", "id").values("id", "title")),
        "annotators": list(annotators.order_by("name", "id").values("id", "name")),
        "tags": list(tags),
    }
