"""HTTP endpoints: video upload, export status, protected media. Thin: logic is in services."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from interviews.invitations import token_matches
from interviews.models import Interview
from interviewsite.authentication import StaffSessionAuthentication
from interviewsite.converters import parse_id
from interviewsite.openapi import api_operation

from . import recording, services, storage
from .models import MediaExport
from .openapi import (
    ERROR,
    INTERVIEW_ID,
    NOT_ALLOWED,
    TOKEN_PARAMETERS,
    ExportStatusSerializer,
    UploadAcceptedSerializer,
    UploadFormSerializer,
)
from .uploads import CappedDiskUploadHandler, sniff_container

TOKEN_HEADER = "X-Interview-Token"
#: What ``protected_media`` serves: WAVs, MP4s and the WebM/MP4 uploads (by file extension).
MEDIA_TYPES = ("audio/*", "video/*", "application/octet-stream")
_OWNER = re.compile(r"^(\d+)[_.]")


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _request_token(request: HttpRequest) -> str:
    return request.GET.get("token") or request.headers.get(TOKEN_HEADER, "")


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff)


@api_operation(
    "POST",
    operation_id="interview_upload_video",
    tags=["interviews"],
    summary="Upload the candidate's recording",
    description=(
        "Multipart body with the invitation token; the video streams to disk and an export "
        "job is queued. A second upload replaces the first. `Content-Length` is required."
    ),
    parameters=TOKEN_PARAMETERS,
    request={"multipart/form-data": UploadFormSerializer},
    responses={
        202: UploadAcceptedSerializer,
        400: ERROR,
        403: ERROR,
        404: ERROR,
        405: NOT_ALLOWED,
        411: ERROR,
        413: ERROR,
        415: ERROR,
    },
)
@csrf_exempt  # authorised by the invitation token, not a session cookie
@never_cache
def upload_video(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = error(405, "method_not_allowed", "Use POST with multipart/form-data.")
        response["Allow"] = "POST"
        return response
    # Daphne refuses any body over MAX_REQUEST_BODY_BYTES before reading it; here the same
    # cap holds under any server. Long recordings go through the parts API.
    limit = min(settings.MAX_VIDEO_UPLOAD_BYTES, settings.MAX_REQUEST_BODY_BYTES)
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isascii() or not declared.isdigit():
        # A chunked body: Django's multipart parser reads only Content-Length bytes.
        return error(411, "length_required", "Send the upload with a Content-Length header.")
    if len(declared) > 19 or int(declared) > limit + 64 * 1024:
        return error(413, "too_large", f"The video is larger than {limit} bytes.")
    handler = CappedDiskUploadHandler(request, max_bytes=limit)
    request.upload_handlers = [handler]
    try:
        return _handle_upload(request, handler)
    finally:
        handler.cleanup()  # whatever was not moved into place


def _handle_upload(request: HttpRequest, handler: CappedDiskUploadHandler) -> HttpResponse:
    try:
        files, data = request.FILES, request.POST
    except Exception:  # malformed multipart body
        if handler.too_large:
            raise
        return error(400, "bad_request", "The body is not valid multipart/form-data.")
    if handler.too_large:
        limit = min(settings.MAX_VIDEO_UPLOAD_BYTES, settings.MAX_REQUEST_BODY_BYTES)
        return error(413, "too_large", f"The video is larger than {limit} bytes.")
    interview_id = parse_id(data.get("interview_id", ""))
    if interview_id is None:
        return error(400, "bad_request", "interview_id must be an interview's id (a number).")
    token = data.get("token") or _request_token(request)
    if not token_matches(token, interview_id):
        return error(403, "forbidden", "The token does not authorise this interview.")
    interview = Interview.objects.filter(pk=interview_id).first()
    if interview is None:
        return error(404, "not_found", "No such interview.")
    if recording.is_closed(interview_id):
        return error(409, "recording_complete", "The recording of this interview is already final.")
    upload = files.get("file")
    if upload is None:
        return error(400, "bad_request", "The multipart field 'file' is missing.")
    if upload.size == 0:
        return error(400, "bad_request", "The uploaded file is empty.")
    kind = sniff_container(upload.temporary_file_path())
    if kind is None:
        return error(415, "unsupported_media_type", "Only WebM or MP4 video is accepted.")
    upload.close()
    session_id = data.get("session_id", "")
    services.register_upload(interview, Path(upload.temporary_file_path()), kind, session_id)
    if interview.is_finished:
        recording.close(interview_id)  # a finished interview's video is never replaced
    status_url = f"/api/interviews/{interview_id}/export"
    return JsonResponse({"status_url": status_url, "status": "queued"}, status=202)


@api_operation(
    "GET",
    operation_id="interview_export_status",
    tags=["interviews"],
    summary="The export job of an interview",
    description="For staff, or with the interview's invitation token.",
    authentication=[StaffSessionAuthentication],
    parameters=[INTERVIEW_ID, *TOKEN_PARAMETERS],
    responses={200: ExportStatusSerializer, 403: ERROR, 404: ERROR, 405: NOT_ALLOWED},
)
@csrf_exempt  # GET only: another method is a 405, not a CSRF failure
@require_GET
@never_cache
def export_status(request: HttpRequest, interview_id: int) -> HttpResponse:
    if not (_is_staff(request) or token_matches(_request_token(request), interview_id)):
        return error(403, "forbidden", "Staff or the interview's token is required.")
    interview = Interview.objects.filter(pk=interview_id).first()
    if interview is None:
        return error(404, "not_found", "No such interview.")
    export = MediaExport.objects.filter(pk=interview_id).first()
    if export is None or not export.video_upload:
        return error(404, "no_export", "No video has been uploaded for this interview.")
    return JsonResponse(
        {
            "status": export.status,
            "video_url": interview.video_url,
            "audio_paths": interview.audio_paths,
            "error": export.error or None,
            "attempts": export.attempts,
            "timeline": {
                "basis": export.timeline_basis,
                "zero_from": export.alignment_source,
                "zero": export.timeline_zero,
                "recording_started_offset": export.recording_started_offset,
                "measured_offset": export.measured_offset,
                "confidence": export.alignment_confidence,
            },
        }
    )


@api_operation(
    "GET",
    operation_id="interview_media",
    tags=["interviews"],
    summary="A recording file (WAV, MP4, the upload)",
    description=(
        "For staff, or with the token of the interview whose id starts the file name. "
        "Unknown files and files of other interviews are both 404. One byte range is honoured."
    ),
    authentication=[StaffSessionAuthentication],
    parameters=[
        OpenApiParameter("path", OpenApiTypes.STR, OpenApiParameter.PATH),
        *TOKEN_PARAMETERS,
        OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER),
    ],
    responses={
        **{(status, kind): OpenApiTypes.BINARY for status in (200, 206) for kind in MEDIA_TYPES},
        302: OpenApiResponse(description="Object storage: a short-lived signed URL of the file."),
        404: ERROR,
        405: NOT_ALLOWED,
        416: OpenApiResponse(description="The range lies outside the file."),
    },
)
@csrf_exempt  # GET only: another method is a 405, not a CSRF failure
@require_GET
def protected_media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve finished media to staff, or to the holder of the owning interview's token.

    Local storage: streamed from here with one byte range honoured. Object storage: a
    redirect to a short-lived signed URL, so the bytes never pass through this server.
    """
    parts = path.split("/")
    if len(parts) < 2 or parts[0] != "uploads" or any(p in ("", ".", "..") for p in parts):
        return error(404, "not_found", "No such file.")
    if any(p.startswith(".") for p in parts):
        return error(404, "not_found", "No such file.")
    if not _is_staff(request):
        owner = _OWNER.match(parts[-1])
        if owner is None or not token_matches(_request_token(request), int(owner.group(1))):
            return error(404, "not_found", "No such file.")
    if not storage.is_local():
        if not storage.exists(path):
            return error(404, "not_found", "No such file.")
        response = HttpResponseRedirect(storage.signed_url(path))
        response["Cache-Control"] = "private, no-store"
        return response
    root = (Path(settings.MEDIA_ROOT) / "uploads").resolve()
    target = storage.local_path(path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return error(404, "not_found", "No such file.")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    size = target.stat().st_size
    byte_range = _parse_range(request.headers.get("Range", ""), size)
    if byte_range is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    fh = open(target, "rb")  # noqa: SIM115 - closed by the response
    if byte_range is None:
        response = FileResponse(fh, content_type=content_type)
    else:
        start, end = byte_range
        fh.seek(start)
        response = StreamingHttpResponse(
            _read_span(fh, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")


def _parse_range(header: str, size: int):
    """One ``bytes=a-b`` range -> (start, end) inclusive; None: whole file; False: unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # absent or multi-range: send the whole file (allowed by RFC 9110)
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        return False
    return start, end


def _read_span(fh, remaining: int, block: int = 64 * 1024):
    try:
        while remaining > 0:
            data = fh.read(min(block, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()
