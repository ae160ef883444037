"""Streaming CSV/JSON writers over an async row iterator.

Rows come from a chunked iterator over ``values_list`` (no model instances, no result
cache) and are encoded in small batches, so memory stays flat however many rows there are.
Under ASGI the response must be fed by an *async* iterator: Django collects a sync one
into a list before sending.
"""

import json
import json.encoder
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from itertools import islice

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import CharField, FloatField, QuerySet
from django.db.models.functions import Cast

from interviews.models import Job

from .models import Annotator, Dataset
from .selectors import COLUMNS, tags_by_dataset

CHUNK_ROWS = 5000  # rows per database fetch, and per chunk sent to the client

logger = logging.getLogger(__name__)

#: The timestamps are read as text (``CAST``): building aware ``datetime`` objects through the
#: database driver and Django's time zone handling costs more than everything else per row.
_TIMESTAMPS = ("created_at", "updated_at", "submitted_at")
#: The rating is read as a float, which is what both formats write, skipping ``Decimal``.
_AS_TEXT = {f"{name}_text": Cast(name, CharField()) for name in _TIMESTAMPS}
_AS_TEXT["quality_rating_float"] = Cast("quality_rating", FloatField())


def format_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, the same text DRF's JSON encoder writes in the list API."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def format_datetime_text(text: str | None) -> str | None:
    """``format_datetime`` of a timestamp the database wrote as text.

    PostgreSQL writes ``2025-03-10 08:15:00.250+00`` (session time zone UTC), SQLite the
    stored naive UTC ``2025-03-10 08:15:00.250000``. The common full-microsecond shapes are
    rewritten directly; anything else is parsed, so the result always equals the list's.
    """
    if text is None:
        return None
    size = len(text)
    if size == 29 and text[26:] == "+00" and text[19] == "." and text[20:26].isdigit():
        return f"{text[:10]}T{text[11:26]}Z"
    if size == 26 and text[19] == "." and text[20:].isdigit():
        return f"{text[:10]}T{text[11:]}Z"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:  # SQLite keeps UTC without an offset
        value = value.replace(tzinfo=UTC)
    return format_datetime(value)


#: What the export reads per task: the task's own columns only. Titles, names and tags
#: come from ``Labels`` (bounded by projects, datasets and annotators, not by rows).
_EXPORT_PATHS = (
    "id",
    "name",
    "status",
    "quality_rating_float",
    "created_at_text",
    "updated_at_text",
    "submitted_at_text",
    "job_id",
    "dataset_id",
    "annotator_id",
)


def export_values(tasks: QuerySet) -> QuerySet:
    """The tasks' own columns, timestamps as text and the rating as a float (see ``_AS_TEXT``)."""
    return tasks.annotate(**_AS_TEXT).values_list(*_EXPORT_PATHS)


class _Lookup(dict):
    """id -> encoded cell(s); an id missing from the preloaded map (a row created during
    the download) is fetched on first use."""

    def __init__(self, items, fetch, encode):
        super().__init__((key, encode(*value)) for key, value in items)
        self._fetch, self._encode = fetch, encode

    def __missing__(self, key):
        value = self[key] = self._encode(*self._fetch(key))
        return value


class Labels:
    """Project titles, dataset titles and tags, and annotator names, loaded once per export.

    Reading them by id from memory instead of joining them onto every row keeps the
    per-row work on the task columns; each map is encoded once per format, not per row.
    """

    def __init__(self):
        self.jobs = dict(Job.objects.values_list("pk", "title"))
        self.datasets = {pk: (title,) for pk, title in Dataset.objects.values_list("pk", "title")}
        self.tags = tags_by_dataset()
        self.annotators = dict(Annotator.objects.values_list("pk", "name"))

    def job(self, pk):
        return (Job.objects.values_list("title", flat=True).get(pk=pk),)

    def dataset(self, pk):
        title = Dataset.objects.values_list("title", flat=True).get(pk=pk)
        return title, tags_by_dataset([pk]).get(pk, [])

    def annotator(self, pk):
        return (Annotator.objects.values_list("name", flat=True).get(pk=pk),)

    def lookups(self, job, dataset, annotator) -> tuple[_Lookup, _Lookup, _Lookup]:
        """Maps id -> ``job(title)``, ``dataset(title, tags)``, ``annotator(name)``."""
        return (
            _Lookup(((k, (v,)) for k, v in self.jobs.items()), self.job, job),
            _Lookup(
                ((k, (v[0], self.tags.get(k, []))) for k, v in self.datasets.items()),
                self.dataset,
                dataset,
            ),
            _Lookup(((k, (v,)) for k, v in self.annotators.items()), self.annotator, annotator),
        )


class Chunks:
    """Encoded chunks of ``encode(rows)`` over ``queryset.iterator()``; the first is read now.

    Created in the view's (sync) thread, so the query runs, and fails, before the response
    starts: a database error is an error status, not a 200 that breaks off. The rest is
    read by async iteration. ``QuerySet.aiterator()`` cannot be used on a plain
    ``values_list`` in Django 5.2: that iterable runs its SQL when the iterator is created,
    which would happen on the event loop and raise ``SynchronousOnlyOperation``. Here the
    sync iterator is only created and advanced in the request's sync thread (thread-sensitive
    ``sync_to_async``), so the database cursor (a server-side cursor on PostgreSQL) is only
    touched there, and it is closed even when the client disconnects mid-download. Each
    thread hop fetches *and encodes* a whole chunk, so the event loop only passes bytes on.
    """

    def __init__(self, queryset: QuerySet, encode, chunk_size: int | None = None):
        self.size = chunk_size or CHUNK_ROWS
        self.rows_read = 0
        self._encode = encode
        self._own_transaction = _begin_streaming_read()
        self._rows = None
        try:
            self._rows = queryset.iterator(chunk_size=self.size)
            self._first = self._next()
        except BaseException:
            self._close()
            raise

    def _next(self) -> tuple[bytes, int]:
        chunk = list(islice(self._rows, self.size))
        self.rows_read += len(chunk)
        return (self._encode(chunk) if chunk else b""), len(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        data, count = self._first
        try:
            while True:
                if data:
                    yield data
                if count < self.size:
                    break
                data, count = await sync_to_async(self._next)()
        finally:
            await sync_to_async(self._close)()

    def _close(self) -> None:
        try:
            if self._rows is not None:
                self._rows.close()
        finally:
            if self._own_transaction:
                try:
                    connection.rollback()  # it only read
                finally:
                    connection.set_autocommit(True)


def _begin_streaming_read() -> bool:
    """On PostgreSQL in autocommit, start a transaction for the export's cursor; whether it did.

    Django declares its server-side cursor ``WITH HOLD`` in autocommit, and PostgreSQL then
    computes and stores every row of the result when the declaring transaction commits, at
    once: the download waited 40 s for its first byte at ten million tasks. Inside a
    transaction the cursor yields rows as they are fetched (and the whole export reads one
    snapshot). The transaction stays open while the client downloads.
    """
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        return False
    connection.set_autocommit(False)
    return True


async def _guarded(chunks: Chunks, opening: bytes, separator: bytes, closing: bytes, fmt: str):
    """The body: ``opening``, the chunks joined by ``separator``, ``closing``.

    An exception must not escape a response body: Django's ASGI handler passes it on to
    daphne, which then tries to start a second response, fails, and stops reaping every
    connection of the process (the download, and others, hang). A failure after the first
    chunk is logged and the body ends without ``closing``: a JSON array stays unterminated
    and a CSV file gets a last line saying it is incomplete, so neither passes for whole.
    """
    yield opening
    first = True
    try:
        async for data in chunks:
            yield data if first else separator + data
            first = False
    except Exception:
        logger.exception("%s export stopped after %d rows", fmt.upper(), chunks.rows_read)
        if fmt == "csv":
            yield f"EXPORT INCOMPLETE - stopped after {chunks.rows_read} rows - download it again\r\n".encode()
        return
    yield closing


#: Cells starting with these are formulas to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """One CSV field as ``csv.writer`` (minimal quoting, ``\\r\\n`` lines) writes it, made
    safe to open in a spreadsheet.

    A cell that would start a formula gets a leading apostrophe and quotes (OWASP's advice),
    so it is read as text. A ``;`` also quotes the cell: spreadsheets set to split on ``;``
    would otherwise start a new cell there (tags are joined with ``;``).
    """
    if text.startswith(FORMULA_START):
        return "\"'" + text.replace('"', '""') + '"'
    if '"' in text or "," in text or "\n" in text or "\r" in text or ";" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_encoder(labels: Labels):
    """Rows to CSV lines with f-strings: the same text ``csv.writer`` produces, at a
    fraction of its per-field cost (only the task name and status need a quoting check;
    the other text cells are encoded once per id)."""
    jobs, datasets, annotators = labels.lookups(
        job=csv_cell,
        dataset=lambda title, tags: f"{csv_cell(title)},{csv_cell(';'.join(tags))}",
        annotator=csv_cell,
    )
    text, cell = format_datetime_text, csv_cell

    def encode(chunk: list[tuple]) -> bytes:
        return "".join(
            [
                f"{pk},{cell(name)},{cell(status)},{'' if rating is None else rating},"
                f"{text(created)},{text(updated)},{'' if submitted is None else text(submitted)},"
                f"{job},{jobs[job]},{dataset},{datasets[dataset]},{annotator},{annotators[annotator]}\r\n"
                for pk, name, status, rating, created, updated, submitted, job, dataset, annotator in chunk
            ]
        ).encode()

    return encode


def _json_encoder(labels: Labels):
    """Rows to JSON objects (keys in ``COLUMNS`` order); the per-id parts encoded once."""
    string = json.encoder.encode_basestring  # ensure_ascii=False: UTF-8 out, as before

    def value(text: str | None) -> str:
        return "null" if text is None else string(text)

    jobs, datasets, annotators = labels.lookups(
        job=lambda title: f'"project_title":{string(title)}',
        dataset=lambda title, tags: (
            f'"dataset_title":{string(title)},"dataset_tags":[{",".join(map(string, tags))}]'
        ),
        annotator=lambda name: f'"annotator_name":{string(name)}',
    )
    text = format_datetime_text

    def encode(chunk: list[tuple]) -> bytes:
        return ",\n".join(
            [
                f'{{"task_id":{pk},"task_name":{string(name)},"status":{string(status)},'
                f'"quality_rating":{"null" if rating is None else rating},'
                f'"created_at":{value(text(created))},"updated_at":{value(text(updated))},'
                f'"submitted_at":{value(text(submitted))},'
                f'"project_id":{job},{jobs[job]},"dataset_id":{dataset},{datasets[dataset]},'
                f'"annotator_id":{annotator},{annotators[annotator]}}}'
                for pk, name, status, rating, created, updated, submitted, job, dataset, annotator in chunk
            ]
        ).encode()

    return encode


def stream_csv(tasks: QuerySet, labels: Labels) -> AsyncIterator[bytes]:
    """The CSV body; the query has run (and its first rows are read) when this returns."""
    chunks = Chunks(export_values(tasks), _csv_encoder(labels))
    return _guarded(chunks, (",".join(COLUMNS) + "\r\n").encode(), b"", b"", "csv")


def stream_json(tasks: QuerySet, labels: Labels) -> AsyncIterator[bytes]:
    """One JSON array, written element by element; the query has run when this returns."""
    chunks = Chunks(export_values(tasks), _json_encoder(labels))
    return _guarded(chunks, b"[", b",\n", b"]\n", "json")
