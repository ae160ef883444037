"""Every event crossing the fake Realtime server, held against the official SDK's types.

``openai.types.realtime`` describes what OpenAI's server sends (``RealtimeServerEvent``)
and accepts (``RealtimeClientEvent``). The SDK's models let unknown fields through; here
they are refused too, so a misspelt field fails a test instead of being ignored upstream.
"""

from __future__ import annotations

from functools import cache

from openai import BaseModel
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import TypeAdapter, ValidationError

#: Problems seen by any fake server of this process; the autouse fixture in conftest.py
#: empties it before each test and fails the test if anything is left in it after.
VIOLATIONS: list[str] = []


class EventRejected(ValueError):
    pass


@cache
def _adapter(direction: str) -> TypeAdapter:
    return TypeAdapter(RealtimeServerEvent if direction == "server" else RealtimeClientEvent)


def _unknown_fields(model, path: str) -> list[str]:
    found = []
    if isinstance(model, BaseModel):
        for name in model.model_extra or {}:
            found.append(f"{path}.{name}")
        for name in type(model).model_fields:
            found += _unknown_fields(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list | tuple):
        for index, value in enumerate(model):
            found += _unknown_fields(value, f"{path}[{index}]")
    elif isinstance(model, dict):
        for key, value in model.items():
            found += _unknown_fields(value, f"{path}.{key}")
    return found


def check(direction: str, event: dict) -> None:
    """Raise ``EventRejected`` unless ``event`` is a valid ``direction`` event without extras."""
    kind = event.get("type") if isinstance(event, dict) else None
    try:
        model = _adapter(direction).validate_python(event)
    except ValidationError as exc:
        raise EventRejected(f"{direction} event {kind!r} is not valid: {exc}") from None
    extra = _unknown_fields(model, kind or "event")
    if extra:
        raise EventRejected(f"{direction} event {kind!r} has unknown fields: {', '.join(extra)}")


def record(direction: str, event: dict) -> str | None:
    """Check ``event``; remember and return the problem, if any."""
    try:
        check(direction, event)
    except EventRejected as exc:
        VIOLATIONS.append(str(exc))
        return str(exc)
    return None
