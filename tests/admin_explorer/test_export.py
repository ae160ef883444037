"""Exports return exactly the list's rows (all pages, same order), parsed back and compared.

The Django test client consumes the async body synchronously (hence the filtered warning);
that the body really streams under daphne is checked in test_streaming.py.
"""

import csv
import datetime as dt
import io
import json
import re

import pytest
from asgiref.sync import async_to_sync
from django.db import DatabaseError, connection

from admin_explorer.export import Chunks
from admin_explorer.models import AnnotationTask, Annotator, Dataset
from admin_explorer.selectors import COLUMNS
from interviews.models import Job

from .conftest import fetch

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")

FILTER_CASES = [
    {},
    {"tags": "audio,text", "sort_by": "annotator_name", "sort_dir": "asc"},
    {"tags": "pii,audio", "tags_mode": "any", "status": "approved,rejected,in_review"},
    {"search": "quinn", "rating_min": "2.5", "sort_by": "quality_rating"},
    {"created_from": "2025-03-01", "created_to": "2025-03-31", "sort_by": "project_title"},
    {"search": "nothing-matches-this"},
]


def list_rows(client, params) -> list[dict]:
    rows, page = [], 1
    while True:
        body = fetch(client, page=page, page_size=500, **params)
        rows += body["results"]
        if page * 500 >= body["count"]:
            return rows
        page += 1


def export(client, fmt, params):
    response = client.get("/api/admin/data/export", {"format": fmt, **params})
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response).decode()


def as_csv_cells(row: dict) -> list[str]:
    cells = []
    for name in COLUMNS:
        value = row[name]
        if value is None:
            cells.append("")
        elif name == "dataset_tags":
            cells.append(";".join(value))
        else:
            cells.append(str(value))
    return cells


@pytest.mark.parametrize("params", FILTER_CASES)
def test_json_export_equals_the_list(staff_client, world, params):
    response, text = export(staff_client, "json", params)
    assert response["Content-Type"] == "application/json"
    assert json.loads(text) == list_rows(staff_client, params)


@pytest.mark.parametrize("params", FILTER_CASES)
def test_csv_export_equals_the_list(staff_client, world, params):
    response, text = export(staff_client, "csv", params)
    assert response["Content-Type"].startswith("text/csv")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(COLUMNS)
    assert parsed[1:] == [as_csv_cells(row) for row in list_rows(staff_client, params)]


def test_download_headers_name_a_dated_file(staff_client, world):
    response, _ = export(staff_client, "csv", {})
    disposition = response["Content-Disposition"]
    today = dt.date.today().isoformat()
    assert re.fullmatch(
        rf'attachment; filename="annotation-tasks-{today}_\d{{6}}\.csv"', disposition
    ), disposition
    response, _ = export(staff_client, "json", {})
    assert response["Content-Disposition"].endswith('.json"')


def test_awkward_text_round_trips_through_csv_and_json(staff_client, world):
    task = world.tasks[0]
    awkward = 'Say "hi", then\nbye; ünïcødé ✓'
    AnnotationTask.objects.filter(pk=task.pk).update(name=awkward)
    params = {"search": "ünïcødé"}
    _, text = export(staff_client, "csv", params)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[1] for r in rows[1:]] == [awkward]
    _, text = export(staff_client, "json", params)
    assert [r["task_name"] for r in json.loads(text)] == [awkward]


def test_format_parameter_is_not_taken_by_the_api_framework(staff_client, world):
    # DRF would answer 404 for ?format=csv on a DRF-negotiated view.
    response = staff_client.get("/api/admin/data/export?format=csv", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    b"".join(response)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cursor kinds")
@pytest.mark.django_db(transaction=True)
def test_the_export_cursor_streams_instead_of_materializing_every_row():
    """In autocommit a named cursor is declared WITH HOLD, and PostgreSQL then computes every
    row before the first fetch returns (40 s at ten million tasks). The export reads inside its
    own transaction instead, and leaves the connection in autocommit when it is done."""
    job = Job.objects.create(title="Streamed")
    dataset = Dataset.objects.create(job=job, title="Rows")
    annotator = Annotator.objects.create(name="Ada", email="ada@example.com")
    AnnotationTask.objects.bulk_create(
        AnnotationTask(job=job, dataset=dataset, annotator=annotator, name=f"T{i}")
        for i in range(25)
    )
    assert connection.get_autocommit()
    chunks = Chunks(AnnotationTask.objects.order_by("id").values_list("id"), len, chunk_size=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        assert cursor.fetchall() == [(False,)]

    async def drain():
        return [data async for data in chunks]

    assert async_to_sync(drain)() == [10, 10, 5]
    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_a_failing_export_query_leaves_the_connection_in_autocommit():
    with pytest.raises(DatabaseError):
        Chunks(AnnotationTask.objects.extra(where=["no_such_column = 1"]).values_list("id"), len)
    assert connection.get_autocommit()
    assert AnnotationTask.objects.count() == 0  # the connection still answers
