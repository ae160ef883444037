"""Candidate-facing pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .invitations import InvalidInvitation, interview_for_token
from .page_config import candidate_page_config


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "interviews/not_found.html", status=404)


@require_GET
@never_cache  # the URL is the candidate's credential: no copy in any cache
def candidate_page(request: HttpRequest, token: str) -> HttpResponse:
    response = _candidate_page(request, token)
    # Nothing the page loads or links to learns the token from a Referer header.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _candidate_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        interview = interview_for_token(token)
    except InvalidInvitation:
        # One answer for tampered, expired and unknown links: never tell which.
        return not_found(request)
    context = {
        "interview": interview,
        "job": interview.job,
        "candidate": interview.candidate,
        "token": token,
        "questions_count": len(interview.job.questions or []),
        "client_config": candidate_page_config(interview, token),
    }
    return render(request, "interviews/candidate.html", context)
