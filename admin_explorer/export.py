"""Streaming CSV/JSON writers over an async row iterator.

Rows come from a chunked iterator over ``values_list`` (no model instances, no result
cache) and are encoded in small batches, so memory stays flat however many rows there are.
Under ASGI the response must be fed by an *async* iterator: Django collects a sync one
into a list before sending.
"""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from itertools import islice

from asgiref.sync import sync_to_async
from django.db.models import QuerySet

from .selectors import COLUMNS, row_values

CHUNK_ROWS = 2000  # rows per database fetch, and per chunk sent to the client


def format_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, the same text DRF's JSON encoder writes in the list API."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


async def aiterate_chunks(queryset: QuerySet, chunk_size: int = CHUNK_ROWS) -> AsyncIterator[list]:
    """Async iteration over ``queryset.iterator()``, one list of rows per thread hop.

    ``QuerySet.aiterator()`` cannot be used on a plain ``values_list`` in Django 5.2: that
    iterable runs its SQL when the iterator is created, which happens on the event loop and
    raises ``SynchronousOnlyOperation``. Here the sync iterator is created and advanced only
    in the sync thread, so the database cursor (a server-side cursor on PostgreSQL) is only
    touched there, and it is closed even when the client disconnects mid-download. Whole
    chunks (not single rows) cross into the event loop, which keeps per-row overhead low.
    """
    rows = queryset.iterator(chunk_size=chunk_size)

    def next_chunk() -> list:
        return list(islice(rows, chunk_size))

    try:
        while True:
            chunk = await sync_to_async(next_chunk)()
            if chunk:
                yield chunk
            if len(chunk) < chunk_size:
                break
    finally:
        await sync_to_async(rows.close)()


def _csv_row(values: tuple, tags: dict[int, str]) -> tuple:
    """``COLUMNS`` order; ``values`` is a ``row_values`` tuple, ``tags`` already joined."""
    rating, submitted = values[3], values[6]
    return (
        values[0],
        values[1],
        values[2],
        "" if rating is None else float(rating),
        format_datetime(values[4]),
        format_datetime(values[5]),
        "" if submitted is None else format_datetime(submitted),
        values[7],
        values[8],
        values[9],
        values[10],
        tags.get(values[9], ""),
        values[11],
        values[12],
    )


def _json_row(values: tuple, tags: dict[int, list[str]]) -> dict:
    rating = values[3]
    return dict(
        zip(
            COLUMNS,
            (
                values[0],
                values[1],
                values[2],
                None if rating is None else float(rating),
                format_datetime(values[4]),
                format_datetime(values[5]),
                format_datetime(values[6]),
                values[7],
                values[8],
                values[9],
                values[10],
                tags.get(values[9], []),
                values[11],
                values[12],
            ),
            strict=True,
        )
    )


async def stream_csv(tasks: QuerySet, tags: dict[int, list[str]]) -> AsyncIterator[bytes]:
    joined = {dataset_id: ";".join(names) for dataset_id, names in tags.items()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    async for chunk in aiterate_chunks(row_values(tasks)):
        writer.writerows([_csv_row(values, joined) for values in chunk])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


async def stream_json(tasks: QuerySet, tags: dict[int, list[str]]) -> AsyncIterator[bytes]:
    """One JSON array, written element by element."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    opening = "["
    async for chunk in aiterate_chunks(row_values(tasks)):
        elements = ",\n".join(encode(_json_row(values, tags)) for values in chunk)
        yield (opening + elements).encode()
        opening = ",\n"
    yield b"[]\n" if opening == "[" else b"]\n"
