"""Which OpenAI Realtime errors matter, and how: the rules behind the table in the docs.

- *final*: retrying cannot help (key, quota, billing, model, a refused session
  configuration); the provider stops at once and the interview fails with the reason.
- *benign*: a race the provider resolves itself (a response already running, a cancel or
  truncate that came too late); logged at debug level only.
- everything else is logged; the conversation goes on.
"""

from __future__ import annotations

from .base import ProviderRefused

FINAL_CODES = {
    "invalid_api_key",
    "insufficient_quota",
    "billing_hard_limit_reached",
    "account_deactivated",
    "model_not_found",
    "unsupported_model",
}
FINAL_TYPES = {"authentication_error", "permission_error", "insufficient_quota"}
BENIGN_CODES = {
    "conversation_already_has_active_response",
    "response_cancel_not_active",
    "item_not_found",
}
ACTIVE_RESPONSE = "conversation_already_has_active_response"
SESSION_EXPIRED = "session_expired"


class UpstreamRefused(ProviderRefused):
    """OpenAI will not run this conversation; ``reason`` is written for staff."""


def is_final(error: dict) -> bool:
    return error.get("code") in FINAL_CODES or error.get("type") in FINAL_TYPES


def is_benign(error: dict) -> bool:
    return error.get("code") in BENIGN_CODES


def staff_reason(error: dict, doing: str = "") -> str:
    """One line staff can act on: what OpenAI said and its code."""
    code = error.get("code") or error.get("type") or "error"
    message = str(error.get("message") or "").strip()
    where = f" while {doing}" if doing else ""
    return f"OpenAI Realtime refused the interview{where} ({code}): {message}"[:2000]
