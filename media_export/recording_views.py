"""The recording's parts API: PUT parts as they are recorded, list them, complete a segment.

Authorised by the invitation token (``?token=`` or ``X-Interview-Token``). Thin: storage
rules live in ``recording.py``, the export in ``services.py``.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from interviews.invitations import token_matches
from interviews.models import Interview
from interviewsite.openapi import api_operation
from realtime.protocol import SESSION_ID_PATTERN

from . import finalise, recording, services
from .openapi import ERROR, INTERVIEW_ID, NOT_ALLOWED, TOKEN_PARAMETERS, UploadAcceptedSerializer
from .views import _request_token, error

SEGMENT = OpenApiParameter(
    "segment", OpenApiTypes.INT, OpenApiParameter.PATH, description="0-based, per interview."
)
PART = OpenApiParameter(
    "n", OpenApiTypes.INT, OpenApiParameter.PATH, description="0-based part of the segment."
)


class SegmentSerializer(serializers.Serializer):
    segment = serializers.IntegerField(min_value=0)
    parts = serializers.ListField(child=serializers.IntegerField(min_value=0))
    bytes = serializers.IntegerField(min_value=0)
    complete = serializers.BooleanField()


class RecordingSerializer(serializers.Serializer):
    segments = SegmentSerializer(many=True)


class PartStoredSerializer(serializers.Serializer):
    segment = serializers.IntegerField(min_value=0)
    part = serializers.IntegerField(min_value=0)
    stored = serializers.ChoiceField(choices=["new", "same"])


class CompleteSerializer(serializers.Serializer):
    parts = serializers.IntegerField(min_value=1, max_value=recording.MAX_PART + 1)
    session_id = serializers.RegexField(SESSION_ID_PATTERN, required=False)


def _authorise(request: HttpRequest, interview_id: int) -> tuple[Interview | None, HttpResponse]:
    if not token_matches(_request_token(request), interview_id):
        return None, error(403, "forbidden", "The token does not authorise this interview.")
    interview = Interview.objects.filter(pk=interview_id).first()
    if interview is None:
        return None, error(404, "not_found", "No such interview.")
    return interview, None


def _closed() -> HttpResponse:
    return error(409, "recording_complete", "The recording of this interview is already final.")


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body in pieces, None as soon as it passes ``limit`` (never read whole first)."""
    body = bytearray()
    while piece := request.read(64 * 1024):
        body += piece
        if len(body) > limit:
            return None
    return bytes(body)


@api_operation(
    "PUT",
    operation_id="interview_recording_put_part",
    tags=["interviews"],
    summary="Upload one part of the recording",
    description=(
        "Raw bytes of part `n` of segment `segment`. The same bytes again are a 200; other "
        "bytes for a stored part, or any part after the recording is final, are a 409."
    ),
    parameters=[INTERVIEW_ID, SEGMENT, PART, *TOKEN_PARAMETERS],
    request={"application/octet-stream": OpenApiTypes.BINARY},
    responses={
        200: PartStoredSerializer,
        201: PartStoredSerializer,
        400: ERROR,
        403: ERROR,
        404: ERROR,
        405: NOT_ALLOWED,
        409: ERROR,
        411: ERROR,
        413: ERROR,
        415: ERROR,
    },
)
@csrf_exempt  # authorised by the invitation token, not a session cookie
@never_cache
def put_part(request: HttpRequest, interview_id: int, segment: int, n: int) -> HttpResponse:
    if request.method != "PUT":
        response = error(405, "method_not_allowed", "Use PUT with the part's raw bytes.")
        response["Allow"] = "PUT"
        return response
    limit = settings.MAX_RECORDING_PART_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isascii() or not declared.isdigit():
        return error(411, "length_required", "Send the part with a Content-Length header.")
    if len(declared) > 19 or int(declared) > limit:
        return error(413, "too_large", f"A part may hold at most {limit} bytes.")
    if segment > recording.MAX_SEGMENT or n > recording.MAX_PART:
        return error(400, "bad_request", "Segment or part number out of range.")
    _interview, refusal = _authorise(request, interview_id)
    if refusal:
        return refusal
    if _recording_final(interview_id):
        return _closed()
    data = _read_body(request, limit)
    if data is None:
        return error(413, "too_large", f"A part may hold at most {limit} bytes.")
    if not data:
        return error(400, "bad_request", "A part must hold bytes.")
    if n == 0 and recording.container_of_first_part(data) is None:
        return error(415, "unsupported_media_type", "Only WebM or MP4 video is accepted.")
    with transaction.atomic():
        services.get_export(interview_id, lock=True)  # one writer per interview at a time
        if _recording_final(interview_id):
            return _closed()
        try:
            new = recording.store_part(interview_id, segment, n, data)
        except recording.PartConflict:
            return error(409, "part_conflict", f"Part {n} of segment {segment} holds other bytes.")
        except recording.RecordingClosed:
            return _closed()
    body = {"segment": segment, "part": n, "stored": "new" if new else "same"}
    return JsonResponse(body, status=201 if new else 200)


def _recording_final(interview_id: int) -> bool:
    return recording.is_closed(interview_id)


@api_operation(
    "GET",
    operation_id="interview_recording",
    tags=["interviews"],
    summary="What the server holds of the recording",
    description="Segments with their stored part numbers, so a reloaded page knows what is there.",
    parameters=[INTERVIEW_ID, *TOKEN_PARAMETERS],
    responses={200: RecordingSerializer, 403: ERROR, 404: ERROR, 405: NOT_ALLOWED},
)
@csrf_exempt  # GET only
@never_cache
def recording_state(request: HttpRequest, interview_id: int) -> HttpResponse:
    if request.method != "GET":
        response = error(405, "method_not_allowed", "Use GET.")
        response["Allow"] = "GET"
        return response
    _interview, refusal = _authorise(request, interview_id)
    if refusal:
        return refusal
    segments = [s.as_json() for s in recording.segments(interview_id)]
    return JsonResponse({"segments": segments})


@api_operation(
    "POST",
    operation_id="interview_recording_complete",
    tags=["interviews"],
    summary="Complete a segment of the recording",
    description=(
        'JSON `{"parts": N}`: parts 0..N-1 are all uploaded. 400 names the missing parts. '
        "When the interview has finished, this makes the recording final and queues the export."
    ),
    parameters=[INTERVIEW_ID, SEGMENT, *TOKEN_PARAMETERS],
    request={"application/json": CompleteSerializer},
    responses={
        202: UploadAcceptedSerializer,
        400: ERROR,
        403: ERROR,
        404: ERROR,
        405: NOT_ALLOWED,
        409: ERROR,
        413: ERROR,
    },
)
@csrf_exempt  # authorised by the invitation token, not a session cookie
@never_cache
def complete_segment(request: HttpRequest, interview_id: int, segment: int) -> HttpResponse:
    if request.method != "POST":
        response = error(405, "method_not_allowed", 'Use POST with {"parts": N}.')
        response["Allow"] = "POST"
        return response
    if segment > recording.MAX_SEGMENT:
        return error(400, "bad_request", "Segment number out of range.")
    raw = _read_body(request, 4096)
    if raw is None:
        return error(413, "too_large", "The body is larger than 4096 bytes.")
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        return error(400, "bad_request", 'The body must be JSON: {"parts": N}.')
    payload = payload if isinstance(payload, dict) else {}
    form = CompleteSerializer(data=payload)
    parts = payload.get("parts")
    if not form.is_valid() or isinstance(parts, bool) or not isinstance(parts, int):
        return error(400, "bad_request", 'The body must be {"parts": N} with N >= 1.')
    interview, refusal = _authorise(request, interview_id)
    if refusal:
        return refusal
    count = form.validated_data["parts"]
    with transaction.atomic():
        services.get_export(interview_id, lock=True)
        if _recording_final(interview_id):
            return _closed()
        missing = recording.missing_parts(interview_id, segment, count)
        if missing:
            shown = ", ".join(str(n) for n in missing[:20]) + (" …" if len(missing) > 20 else "")
            return error(400, "missing_parts", f"Parts not uploaded yet: {shown}.")
        recording.mark_complete(interview_id, segment, count)
    session_id = form.validated_data.get("session_id", "")
    finalise.export_recording(interview, segment=segment, session_id=session_id)
    return JsonResponse(
        {"status_url": f"/api/interviews/{interview_id}/export", "status": "queued"}, status=202
    )
