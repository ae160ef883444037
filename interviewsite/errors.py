"""The 404 and 500 answers: JSON under /api/ and /media/, pages elsewhere.

An API client that gets an HTML page it did not ask for cannot read the error; the
interview endpoints' error shape ``{"error": {"code", "message"}}`` is used instead.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from interviews.views import not_found as page_not_found


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", settings.MEDIA_URL))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such endpoint or object."}}, status=404
        )
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"error": {"code": "server_error", "message": "The server failed; it is logged."}},
            status=500,
        )
    return defaults.server_error(request)
