"""The faster query plans give exactly the answers of the straightforward ones."""

import datetime as dt
import json

import pytest

from admin_explorer import selectors, tally
from admin_explorer.export import format_datetime, format_datetime_text

from .conftest import fetch, resolve, tags_of

FACET_CASES = [
    {},
    {"search": "quinn"},
    {"search": "APOLLO"},
    {"search": "lynx"},
    {"search": "PI"},
    {"project": "placeholder"},
    {"tags": "audio,text"},
    {"tags": "pii,audio", "tags_mode": "any", "status": "approved,rejected"},
    {"annotator": "placeholder", "rating_min": "2.5"},
    {"status": "pending", "created_from": "2025-03-05"},
]


def brute_force_facets(world, params: dict) -> dict:
    """Facets computed in Python from the definition: values in rows matching the other filters."""

    def matches(task, skip):
        if "project" in params and "project" not in skip and task.job_id != params["project"]:
            return False
        if "annotator" in params and "annotator" not in skip:  # noqa: SIM102
            if task.annotator_id != params["annotator"]:
                return False
        if "tags" in params and "tags" not in skip:
            wanted, have = set(params["tags"].split(",")), tags_of(task)
            ok = wanted & have if params.get("tags_mode") == "any" else wanted <= have
            if not ok:
                return False
        if "status" in params and task.status not in params["status"].split(","):
            return False
        if "search" in params:
            text = params["search"].lower()
            fields = [task.name, task.job.title, task.dataset.title, task.annotator.name]
            fields += tags_of(task)
            if not any(text in f.lower() for f in fields):
                return False
        if "rating_min" in params:  # noqa: SIM102
            if task.quality_rating is None or task.quality_rating < float(params["rating_min"]):
                return False
        if "created_from" in params:
            start = dt.datetime.fromisoformat(params["created_from"]).replace(tzinfo=dt.UTC)
            if task.created_at < start:
                return False
        return True

    def rows(skip):
        return [t for t in world.tasks if matches(t, skip)]

    projects = {(t.job_id, t.job.title) for t in rows({"project"})}
    annotators = {(t.annotator_id, t.annotator.name) for t in rows({"annotator"})}
    tags = set().union(*[tags_of(t) for t in rows({"tags"})])
    return {
        "projects": [
            {"id": i, "title": n} for i, n in sorted(projects, key=lambda p: (p[1], p[0]))
        ],
        "annotators": [
            {"id": i, "name": n} for i, n in sorted(annotators, key=lambda p: (p[1], p[0]))
        ],
        "tags": sorted(tags),
    }


@pytest.mark.parametrize("use_tally", [True, False], ids=["tally", "no-tally"])
@pytest.mark.parametrize("distinct_rows", [0, 1_000_000], ids=["exists-probes", "distinct-rows"])
@pytest.mark.parametrize("params", FACET_CASES)
def test_every_facet_plan_matches_the_definition(
    staff_client, world, monkeypatch, params, distinct_rows, use_tally
):
    monkeypatch.setattr(selectors, "DISTINCT_FACET_ROWS", distinct_rows)
    if not use_tally:
        monkeypatch.setattr(tally, "available", lambda: False)
    params = resolve(world, params)
    body = fetch(staff_client, **params)
    assert body["facets"] == brute_force_facets(world, params)
    assert body["count"] == len(fetch(staff_client, page_size=500, **params)["results"])


@pytest.mark.parametrize("limit", [0, 1, 10_000], ids=["name-matched-in-sql", "too-many", "ids"])
def test_task_name_search_gives_the_same_rows_as_ids_or_as_a_pattern(
    staff_client, world, monkeypatch, limit
):
    monkeypatch.setattr(selectors, "SEARCH_NAME_IDS", limit)
    body = fetch(staff_client, search="YNX", page_size=500)
    expected = sorted(t.pk for t in world.tasks if "ynx" in t.name.lower())
    assert expected and sorted(r["task_id"] for r in body["results"]) == expected


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("2025-03-10 08:15:00.250000+00", "2025-03-10T08:15:00.250000+00:00"),  # PostgreSQL
        ("2025-03-10 08:15:00.25+00", "2025-03-10T08:15:00.250000+00:00"),
        ("2025-03-10 08:15:00.123+00", "2025-03-10T08:15:00.123000+00:00"),  # 26 characters
        ("2025-03-10 08:15:00.123-03", "2025-03-10T08:15:00.123000-03:00"),
        ("2025-03-10 08:15:00.123456-03", "2025-03-10T08:15:00.123456-03:00"),  # 29 characters
        ("2025-03-10 08:15:00+00", "2025-03-10T08:15:00+00:00"),
        ("2025-03-10 08:15:00.250000+02", "2025-03-10T08:15:00.250000+02:00"),
        ("2025-03-10 08:15:00.250000", "2025-03-10T08:15:00.250000+00:00"),  # SQLite, UTC
        ("2025-03-10 08:15:00", "2025-03-10T08:15:00+00:00"),
    ],
)
def test_timestamp_text_is_written_like_the_list(text, parsed):
    assert format_datetime_text(text) == format_datetime(dt.datetime.fromisoformat(parsed))
    assert format_datetime_text(None) is None


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")
def test_export_names_rows_created_after_its_labels_were_loaded(staff_client, world):
    """Titles and names come from maps loaded when the export starts; a project, dataset or
    annotator that appears mid-download is looked up, not left blank or failing."""
    import csv
    import io

    from admin_explorer import export
    from admin_explorer.models import AnnotationTask, Annotator, Dataset
    from interviews.models import Job

    labels = export.Labels()
    job = Job.objects.create(title="Late, project")
    dataset = Dataset.objects.create(job=job, title='Late "dataset"')
    dataset.tags.set([world.tags["gold"], world.tags["audio"]])
    annotator = Annotator.objects.create(name="Latecomer", email="late@example.com")
    task = AnnotationTask.objects.create(
        job=job, dataset=dataset, annotator=annotator, name="Late task"
    )
    rows = list(export.export_values(AnnotationTask.objects.filter(pk=task.pk)))
    line = export._csv_encoder(labels)(rows).decode()
    cells = next(csv.reader(io.StringIO(line, newline="")))
    assert cells[7:] == [
        str(job.pk),
        "Late, project",
        str(dataset.pk),
        'Late "dataset"',
        "audio;gold",
        str(annotator.pk),
        "Latecomer",
    ]
    element = json.loads(export._json_encoder(labels)(rows))
    assert element["project_title"] == "Late, project"
    assert element["dataset_tags"] == ["audio", "gold"]
    assert element["annotator_name"] == "Latecomer"


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")
def test_exported_timestamps_equal_the_list_for_every_fraction_shape(staff_client, world):
    """The database writes fractions with trailing zeros dropped; every shape must come out
    exactly as the list API writes it."""
    import csv
    import io

    from admin_explorer.models import AnnotationTask

    from .test_export import as_csv_cells, export, list_rows

    micros = [0, 1, 10, 120000, 123000, 123400, 999999, 500000, 100]
    for task, micro in zip(world.tasks, micros, strict=False):
        AnnotationTask.objects.filter(pk=task.pk).update(
            created_at=task.created_at.replace(microsecond=micro),
            updated_at=task.created_at.replace(microsecond=(micro * 7) % 1_000_000),
            submitted_at=task.created_at.replace(microsecond=micro // 10),
        )
    expected = list_rows(staff_client, {})
    _, text = export(staff_client, "json", {})
    assert json.loads(text) == expected
    _, text = export(staff_client, "csv", {})
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1:] == [as_csv_cells(row) for row in expected]
