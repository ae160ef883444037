"""What the explorer page needs from the server: its columns, its URLs and its limits.

The page's ES modules read all of this from one ``json_script`` block, so a URL, a default or
a column name is written once, here, and never again in JavaScript.
"""

from dataclasses import dataclass

from django.db.models import Max, Min
from django.http import QueryDict
from django.urls import reverse

from .models import AnnotationTask
from .query import InvalidParameters, parse_query
from .selectors import DEFAULT_DIR, DEFAULT_SORT, SORT_FIELDS
from .serializers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageParamsSerializer


@dataclass(frozen=True)
class Column:
    key: str  # the field of a result row
    label: str
    shown: bool = True  # shown unless the view chooses otherwise

    @property
    def sort(self) -> str | None:
        return self.key if self.key in SORT_FIELDS else None


#: The table's columns in display order; the side panel shows every one of them.
COLUMNS = (
    Column("task_name", "Task"),
    Column("status", "Status"),
    Column("quality_rating", "Rating"),
    Column("project_title", "Project"),
    Column("dataset_title", "Dataset"),
    Column("dataset_tags", "Tags"),
    Column("annotator_name", "Annotator"),
    Column("created_at", "Created"),
    Column("updated_at", "Updated"),
    Column("submitted_at", "Submitted", shown=False),
    Column("task_id", "Task id", shown=False),
)
COLUMN_KEYS = frozenset(c.key for c in COLUMNS)
#: The page-only parameter naming the shown columns (the API never sees it).
COLUMNS_PARAM = "columns"


@dataclass(frozen=True)
class Menu:
    param: str  # the filter parameter it sets
    facet: str  # its key in the list's facets and the counts endpoint
    label: str
    noun: str


#: The filter menus, in page order.
MENUS = (
    Menu("project", "projects", "Projects", "project"),
    Menu("annotator", "annotators", "Annotators", "annotator"),
    Menu("tags", "tags", "Dataset tags", "tag"),
)
#: The "last N days" date presets; "this quarter" is the other one.
PRESET_DAYS = (7, 30, 90)
PAGE_SIZES = (25, 50, 100, 250, MAX_PAGE_SIZE)
SEARCH_DELAY_MS = 300
#: A placeholder id, swapped for a task's id in the admin change page URL.
ID_PLACEHOLDER = 999_999_999


def view_query_errors(query: str) -> dict[str, list[str]]:
    """Why a page query string (as a saved view keeps it) is not one the page can open."""
    params = QueryDict(query.removeprefix("?"), mutable=True)
    errors: dict[str, list[str]] = {}
    columns = params.pop(COLUMNS_PARAM, [])
    chosen = [key for value in columns for key in value.split(",") if key]
    if unknown := sorted(set(chosen) - COLUMN_KEYS):
        errors[COLUMNS_PARAM] = [f"Unknown column: {', '.join(unknown)}."]
    try:
        parse_query(params, PageParamsSerializer)
    except InvalidParameters as exc:
        errors.update(exc.errors)
    return errors


def data_span() -> dict[str, str | None]:
    """The oldest and newest task's creation time: where the date picker opens.

    ``MIN``/``MAX`` of an indexed column are read from the ends of the index on both databases.
    """
    span = AnnotationTask.objects.aggregate(oldest=Min("created_at"), newest=Max("created_at"))
    return {key: value.isoformat() if value else None for key, value in span.items()}


def page_config() -> dict:
    change_url = reverse(
        "admin:admin_explorer_annotationtask_change", args=[ID_PLACEHOLDER]
    ).replace(str(ID_PLACEHOLDER), "{id}")
    return {
        "urls": {
            "data": reverse("admin_explorer:data"),
            "export": reverse("admin_explorer:export"),
            "counts": reverse("admin_explorer:counts"),
            "views": reverse("admin_explorer:views"),
            "page": reverse("admin_explorer:explorer"),
            "login": reverse("admin:login"),
            "task_admin": change_url,
        },
        "defaults": {
            "sort_by": DEFAULT_SORT,
            "sort_dir": DEFAULT_DIR,
            "page_size": DEFAULT_PAGE_SIZE,
        },
        "page_sizes": list(PAGE_SIZES),
        "search_delay_ms": SEARCH_DELAY_MS,
        "columns_param": COLUMNS_PARAM,
        "menus": [{"param": m.param, "facet": m.facet} for m in MENUS],
        "columns": [
            {"key": c.key, "label": c.label, "sort": c.sort, "shown": c.shown} for c in COLUMNS
        ],
        "span": data_span(),
    }
