"""Query-parameter validation for sort and paging, and the documented response shapes."""

from rest_framework import serializers

from .models import AnnotationTask
from .selectors import DEFAULT_DIR, DEFAULT_SORT, SORT_FIELDS

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


class SortParamsSerializer(serializers.Serializer):
    sort_by = serializers.ChoiceField(choices=list(SORT_FIELDS), default=DEFAULT_SORT)
    sort_dir = serializers.ChoiceField(choices=["asc", "desc"], default=DEFAULT_DIR)


class PageParamsSerializer(SortParamsSerializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


class ExportParamsSerializer(SortParamsSerializer):
    format = serializers.ChoiceField(choices=["csv", "json"])


class TaskRowSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    task_name = serializers.CharField()
    status = serializers.ChoiceField(choices=AnnotationTask.Status.choices)
    quality_rating = serializers.FloatField(allow_null=True, min_value=0, max_value=5)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    project_id = serializers.IntegerField()
    project_title = serializers.CharField()
    dataset_id = serializers.IntegerField()
    dataset_title = serializers.CharField()
    dataset_tags = serializers.ListField(child=serializers.CharField())
    annotator_id = serializers.IntegerField()
    annotator_name = serializers.CharField()


class ProjectFacetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class AnnotatorFacetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FacetsSerializer(serializers.Serializer):
    projects = ProjectFacetSerializer(many=True)
    annotators = AnnotatorFacetSerializer(many=True)
    tags = serializers.ListField(child=serializers.CharField())


class ExplorerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = TaskRowSerializer(many=True)
    facets = FacetsSerializer()


#: A 400's body (an OpenAPI schema): ``{parameter: [message, ...]}`` for each bad parameter.
PARAMETER_ERRORS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "array", "minItems": 1, "items": {"type": "string"}},
}
#: DRF's own 401/403 body.
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


class CountsParamsSerializer(serializers.Serializer):
    facet = serializers.ChoiceField(choices=["projects", "annotators", "tags"])


class FacetCountSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="The filter value: an id, or a tag name.")
    label = serializers.CharField()
    count = serializers.IntegerField(min_value=1)


class FacetCountsSerializer(serializers.Serializer):
    facet = serializers.ChoiceField(choices=["projects", "annotators", "tags"])
    counts = FacetCountSerializer(many=True)
