"""Keep long-lived objects out of the garbage collector's full passes."""

import gc

from django.urls import get_resolver


def load_request_handling() -> None:
    """Import what the first request would: the URLconf, and with it every view, serializer
    and filter behind it (Django loads them lazily, on the first request)."""
    get_resolver().reverse_dict  # noqa: B018 -- reading it builds the resolver's tables


def freeze_loaded_objects() -> None:
    """Load the request handling, collect once, then move every object alive now into the
    permanent generation.

    What a server has loaded by the time it serves lives as long as the process; full
    collections that walk it again and again pause every request and every live audio
    session for tens of milliseconds. The views count: left to the first request, they are
    tens of thousands of objects that every later full collection walks (15-25 ms each).
    """
    load_request_handling()
    gc.collect()
    gc.freeze()
