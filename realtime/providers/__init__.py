"""AI providers behind one interface (``base.RealtimeProvider``), chosen by name.

``REALTIME_PROVIDER`` picks ``local`` (offline interviewer) or ``openai``. Settings may
add names with ``REALTIME_PROVIDER_CLASSES`` (name → dotted class path, e.g. the
benchmark's scripted provider) and pass constructor keywords per name with
``REALTIME_PROVIDER_OPTIONS`` (name → dict; tests use it to speed up timing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.conf import settings
from django.utils.module_loading import import_string

from .base import HistoryEntry, RealtimeProvider, SessionSeed

BUILTIN_PROVIDERS = {
    "local": "realtime.providers.local.LocalInterviewer",
    "openai": "realtime.providers.openai_provider.OpenAIRealtimeProvider",
}

__all__ = ["HistoryEntry", "RealtimeProvider", "SessionSeed", "create_provider"]


def create_provider(
    name: str | None = None,
    history_loader: Callable[[], Awaitable[list[HistoryEntry]]] | None = None,
) -> RealtimeProvider:
    name = name or settings.REALTIME_PROVIDER
    registry = {**BUILTIN_PROVIDERS, **getattr(settings, "REALTIME_PROVIDER_CLASSES", {})}
    if name not in registry:
        raise ValueError(f"Unknown realtime provider {name!r}")
    cls = import_string(registry[name])
    options = dict(getattr(settings, "REALTIME_PROVIDER_OPTIONS", {}).get(name, {}))
    if name == "openai":
        options.setdefault("api_key", settings.OPENAI_API_KEY)
        options.setdefault("model", settings.OPENAI_REALTIME_MODEL)
        options.setdefault("base_url", settings.OPENAI_BASE_URL)
        options.setdefault("voice", settings.OPENAI_REALTIME_VOICE)
        options.setdefault("history_loader", history_loader)
        options.setdefault("turn_detection", settings.OPENAI_TURN_DETECTION)
        options.setdefault("eagerness", settings.OPENAI_VAD_EAGERNESS)
        options.setdefault("silence_duration_ms", settings.OPENAI_VAD_SILENCE_MS)
        options.setdefault("recycle_after_seconds", settings.OPENAI_RECYCLE_MINUTES * 60)
    return cls(**options)
