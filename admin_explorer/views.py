"""Thin views: parse the request, call selectors, shape the response."""

import math

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from interviewsite.authentication import StaffSessionAuthentication

from . import export
from .facet_counts import facet_counts
from .models import AnnotationTask
from .page import COLUMNS, MENUS, PAGE_SIZES, PRESET_DAYS, page_config
from .query import InvalidParameters, parse_query
from .schema import (
    ERROR_RESPONSES,
    PAGE_PARAMETERS,
    SORT_PARAMETERS,
    PageSchema,
    filter_parameters,
)
from .serializers import (
    CountsParamsSerializer,
    ExplorerPageSerializer,
    ExportParamsSerializer,
    FacetCountsSerializer,
    PageParamsSerializer,
    TaskRowSerializer,
)


class AnnotationTaskViewSet(viewsets.GenericViewSet):
    """Filterable, sortable, paginated annotation tasks with facets for the filter menus."""

    authentication_classes = [StaffSessionAuthentication]
    permission_classes = [IsAdminUser]
    schema = PageSchema()

    @extend_schema(
        operation_id="admin_data_list",
        parameters=[*filter_parameters(), *SORT_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: ExplorerPageSerializer, **ERROR_RESPONSES},
        description=(
            "A page past the last one is a 400 naming `page`. Facets list the projects, "
            "annotators and tags present in the rows matching the other filters."
        ),
    )
    def list(self, request):
        try:
            query = parse_query(request.query_params, PageParamsSerializer, also_allowed={"format"})
        except InvalidParameters as exc:
            raise ValidationError(exc.errors) from None
        page, page_size = query.options["page"], query.options["page_size"]
        count = query.count()
        last_page = max(1, math.ceil(count / page_size))
        if page > last_page:
            raise ValidationError({"page": [f"Page {page} is past the last page ({last_page})."]})
        results = query.page_rows((page - 1) * page_size, page_size, count)
        return Response(
            {
                "count": count,
                "page": page,
                "page_size": page_size,
                "results": results,
                "facets": query.facets(count),
            }
        )


class FacetCountsView(APIView):
    """One filter menu's values with their task counts, asked for when the menu opens."""

    authentication_classes = [StaffSessionAuthentication]
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="admin_data_counts",
        parameters=[
            OpenApiParameter(
                "facet", OpenApiTypes.STR, enum=["projects", "annotators", "tags"], required=True
            ),
            *filter_parameters(),
        ],
        responses={200: FacetCountsSerializer, **ERROR_RESPONSES},
        description=(
            "How many tasks each project, annotator or tag would add, under every filter but "
            "the facet's own (as the list's facets); values without tasks are left out. "
            "`counts` is null when counting would take longer than its time budget."
        ),
    )
    def get(self, request):
        try:
            query = parse_query(request.query_params, CountsParamsSerializer)
        except InvalidParameters as exc:
            raise ValidationError(exc.errors) from None
        facet = query.options["facet"]
        return Response({"facet": facet, "counts": facet_counts(query.filterset, facet)})


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.stream_csv),
    "json": ("application/json", export.stream_json),
}


class IgnoreFormatParameter(BaseContentNegotiation):
    """Always JSON for errors; ``?format=`` here names the export format, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class ExportView(APIView):
    """Stream every filtered row, in the list's order, as a CSV or JSON download.

    The body comes from an async generator over ``aiterator``: under ASGI a sync iterator
    would be collected into one list before the first byte is sent.
    """

    authentication_classes = [StaffSessionAuthentication]
    permission_classes = [IsAdminUser]
    content_negotiation_class = IgnoreFormatParameter
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="admin_data_export",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "json"], required=True),
            *filter_parameters(),
            *SORT_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/json"): TaskRowSerializer(many=True),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request):
        try:
            query = parse_query(request.query_params, ExportParamsSerializer)
        except InvalidParameters as exc:
            raise ValidationError(exc.errors) from None
        fmt = query.options["format"]
        content_type, writer = EXPORT_FORMATS[fmt]
        labels = export.Labels()  # small queries: bounded by projects/datasets/annotators
        response = StreamingHttpResponse(writer(query.tasks(), labels), content_type=content_type)
        stamp = timezone.localtime().strftime("%Y-%m-%d_%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="annotation-tasks-{stamp}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response


@staff_member_required
def explorer_page(request):
    """The /admin/data-explorer page; the table itself is drawn by a static ES module."""
    context = {
        **admin.site.each_context(request),
        "title": "Data Explorer",
        "statuses": AnnotationTask.Status.choices,
        "columns": COLUMNS,
        "page_sizes": PAGE_SIZES,
        "menus": MENUS,
        "preset_days": PRESET_DAYS,
        "config": page_config(),
    }
    return render(request, "admin_explorer/explorer.html", context)
