"""Signed invitation tokens: the only credential a candidate ever holds."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Interview

SALT = "interviews.invitation"


class InvalidInvitation(Exception):
    """The token is tampered, expired, malformed or names no interview."""


def make_token(interview: Interview) -> str:
    return signing.dumps({"interview": interview.pk}, salt=SALT, compress=True)


def read_interview_id(token: str, max_age: int | None = None) -> int:
    """Return the interview id a token carries, or raise ``InvalidInvitation``."""
    if max_age is None:
        max_age = settings.INVITATION_MAX_AGE_SECONDS
    if not isinstance(token, str) or not token or len(token) > 512:
        raise InvalidInvitation("malformed token")
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidInvitation("expired token") from exc
    except signing.BadSignature as exc:
        raise InvalidInvitation("bad signature") from exc
    interview_id = payload.get("interview") if isinstance(payload, dict) else None
    if not isinstance(interview_id, int):
        raise InvalidInvitation("malformed payload")
    return interview_id


def interview_for_token(token: str, max_age: int | None = None) -> Interview:
    interview_id = read_interview_id(token, max_age=max_age)
    try:
        return Interview.objects.select_related("job", "candidate").get(pk=interview_id)
    except Interview.DoesNotExist as exc:
        raise InvalidInvitation("unknown interview") from exc


async def ainterview_for_token(token: str, max_age: int | None = None) -> Interview:
    interview_id = read_interview_id(token, max_age=max_age)
    try:
        return await Interview.objects.select_related("job", "candidate").aget(pk=interview_id)
    except Interview.DoesNotExist as exc:
        raise InvalidInvitation("unknown interview") from exc


def token_matches(token: str, interview_id: int) -> bool:
    try:
        return read_interview_id(token) == int(interview_id)
    except (InvalidInvitation, TypeError, ValueError):
        return False


def invitation_path(interview: Interview) -> str:
    return reverse("interviews:candidate", kwargs={"token": make_token(interview)})


def invitation_url(interview: Interview, base_url: str = "") -> str:
    return base_url.rstrip("/") + invitation_path(interview)
