"""The client's address for login throttling, aware of trusted reverse proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT = n`` the n-th ``X-Forwarded-For``
    entry from the right: each trusted proxy appends the address it received from, so
    anything further left was written by the client and cannot be trusted."""
    peer = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-count] if len(forwarded) >= count else peer
