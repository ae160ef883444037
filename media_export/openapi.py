"""What the upload, export-status and media endpoints accept and answer, for ``/api/schema/``.

The views are plain Django views (see ``interviewsite.openapi``); these serializers only
describe their JSON, they never validate a request.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from interviewsite.converters import OPENAPI_ID

from .models import MediaExport


class ApiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `forbidden`.")
    message = serializers.CharField(help_text="A sentence for people.")


class ApiErrorSerializer(serializers.Serializer):
    """``{"error": {"code", "message"}}``: every error of the interview endpoints."""

    error = ApiErrorDetailSerializer()


class UploadFormSerializer(serializers.Serializer):
    interview_id = serializers.IntegerField(min_value=1, max_value=OPENAPI_ID["maximum"])
    token = serializers.CharField(
        required=False, help_text="The invitation token (or `?token=` / `X-Interview-Token`)."
    )
    session_id = serializers.CharField(required=False, max_length=80)
    file = serializers.FileField(help_text="WebM or MP4 video.")


class UploadAcceptedSerializer(serializers.Serializer):
    """The answer when a whole upload or a completed recording segment queues the export."""

    status_url = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued"])


class ExportTimelineSerializer(serializers.Serializer):
    basis = serializers.CharField(allow_blank=True)
    zero_from = serializers.CharField(allow_blank=True)
    zero = serializers.FloatField(allow_null=True)
    recording_started_offset = serializers.FloatField(allow_null=True)
    measured_offset = serializers.FloatField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)


class ExportStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MediaExport.Status.values)
    video_url = serializers.CharField(allow_blank=True)
    audio_paths = serializers.DictField(child=serializers.CharField())
    error = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField(min_value=0)
    timeline = ExportTimelineSerializer()


TOKEN_PARAMETERS = [
    OpenApiParameter(
        "token",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="The interview's invitation token.",
    ),
    OpenApiParameter(
        "X-Interview-Token",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="The invitation token, as a header instead of `?token=`.",
    ),
]

INTERVIEW_ID = OpenApiParameter(
    "interview_id", OPENAPI_ID, OpenApiParameter.PATH, description="The interview's id."
)

ERROR = OpenApiResponse(ApiErrorSerializer)
NOT_ALLOWED = OpenApiResponse(description="Another HTTP method; `Allow` names the right one.")
