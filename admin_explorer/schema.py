"""OpenAPI descriptions of the filter parameters, with their real types.

drf-spectacular can only guess custom django-filter fields (it would call them all strings),
and documents filters on list views only; the export takes the same ones.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from interviewsite.converters import MAX_ID

from .fields import DATE_OR_DATETIME
from .filters import TaskFilterSet
from .models import AnnotationTask
from .selectors import SORT_FIELDS
from .serializers import DETAIL, MAX_PAGE_SIZE, PARAMETER_ERRORS

_ID_LIST = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
#: The shape of an ISO 8601 date or date-time; it must also be a real day between
#: 1900-01-01 and 2999-12-31 (after the offset): a 400 names the parameter otherwise.
#: An empty value is the same as leaving the parameter out (as for every filter).
_DATE_OR_DATETIME = {"type": "string", "pattern": f"^({DATE_OR_DATETIME})?$"}
_TYPES = {
    "project": _ID_LIST,
    "annotator": _ID_LIST,
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}},
    "tags_mode": {"type": "string", "enum": ["all", "any"], "default": "all"},
    "search": {"type": "string", "maxLength": 200},
    "status": {"type": "array", "items": {"type": "string", "enum": AnnotationTask.Status.values}},
    "rating_min": {"type": "number", "minimum": 0, "maximum": 5},
    "rating_max": {"type": "number", "minimum": 0, "maximum": 5},
    "created_from": _DATE_OR_DATETIME,
    "created_to": _DATE_OR_DATETIME,
}
_ARRAY_STYLE = {"tags": False}  # tags are comma-separated only


def filter_parameters() -> list[OpenApiParameter]:
    params = []
    for name, flt in TaskFilterSet.base_filters.items():
        schema = _TYPES[name]
        is_array = schema["type"] == "array"
        params.append(
            OpenApiParameter(
                name,
                schema,
                description=str(flt.extra.get("help_text", "")),
                explode=_ARRAY_STYLE.get(name, True) if is_array else None,
            )
        )
    return params


SORT_PARAMETERS = [
    OpenApiParameter("sort_by", OpenApiTypes.STR, enum=list(SORT_FIELDS), default="created_at"),
    OpenApiParameter("sort_dir", OpenApiTypes.STR, enum=["asc", "desc"], default="desc"),
]
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "default": 1},
        description="1-based; a page past the last one is a 400 naming `page`.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 50},
        description=f"1 to {MAX_PAGE_SIZE}.",
    ),
]

#: The error answers both endpoints share.
ERROR_RESPONSES = {
    400: OpenApiResponse(PARAMETER_ERRORS, description="Each bad parameter with its messages."),
    401: OpenApiResponse(DETAIL, description="Not logged in (`WWW-Authenticate: Session`)."),
    403: OpenApiResponse(DETAIL, description="Logged in, but not staff."),
}


class PageSchema(AutoSchema):
    """The list endpoint answers one object (a page, its count and facets), not an array:
    drf-spectacular would call a viewset's ``list`` action an array of its serializer."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
