"""Every filter alone and combined, checked against plain-Python predicates over the same rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import all_ids, fetch, tags_of

UTC = dt.UTC


def expect(world, predicate) -> set[int]:
    return {t.pk for t in world.tasks if predicate(t)}


def ids(client, **params) -> set[int]:
    served = all_ids(client, **params)
    assert len(served) == len(set(served))
    return set(served)


def test_no_filters_returns_everything_newest_first(staff_client, world):
    body = fetch(staff_client)
    assert body["count"] == 42
    assert body["page"] == 1 and body["page_size"] == 50
    created = [row["created_at"] for row in body["results"]]
    assert created == sorted(created, reverse=True)
    assert set(body["results"][0]) == {
        "task_id", "task_name", "status", "quality_rating", "created_at", "updated_at",
        "submitted_at", "project_id", "project_title", "dataset_id", "dataset_title",
        "dataset_tags", "annotator_id", "annotator_name",
    }  # fmt: skip


def test_row_content_matches_the_database(staff_client, world):
    task = world.tasks[5]
    row = next(r for r in fetch(staff_client)["results"] if r["task_id"] == task.pk)
    assert row["task_name"] == task.name
    assert row["status"] == task.status
    assert row["quality_rating"] == (
        None if task.quality_rating is None else float(task.quality_rating)
    )
    assert row["project_id"] == task.job_id and row["project_title"] == task.job.title
    assert row["dataset_id"] == task.dataset_id and row["dataset_title"] == task.dataset.title
    assert row["dataset_tags"] == sorted(tags_of(task))
    assert row["annotator_id"] == task.annotator_id and row["annotator_name"] == task.annotator.name
    assert dt.datetime.fromisoformat(row["created_at"]) == task.created_at


@pytest.mark.parametrize("style", ["repeat", "comma"])
def test_project_and_annotator_ids_or_within_a_parameter(staff_client, world, style):
    apollo, borealis = world.jobs["Apollo"].pk, world.jobs["Borealis"].pk
    quinn, sullivan = world.annotators["Quinn"].pk, world.annotators["Sullivan"].pk
    both = [apollo, borealis] if style == "repeat" else f"{apollo},{borealis}"
    assert ids(staff_client, project=both) == expect(world, lambda t: True)
    assert ids(staff_client, project=apollo) == expect(world, lambda t: t.job_id == apollo)
    annotators = [quinn, sullivan] if style == "repeat" else f"{quinn},{sullivan}"
    assert ids(staff_client, annotator=annotators) == expect(
        world, lambda t: t.annotator_id in {quinn, sullivan}
    )
    assert ids(staff_client, project=world.jobs["Cascade"].pk) == set()


def test_tags_all_by_default_and_any_on_request(staff_client, world):
    assert ids(staff_client, tags="audio,text") == expect(
        world, lambda t: {"audio", "text"} <= tags_of(t)
    )
    assert ids(staff_client, tags="audio,text", tags_mode="all") == expect(
        world, lambda t: tags_of(t) >= {"audio", "text"}
    )
    assert ids(staff_client, tags="pii,audio", tags_mode="any") == expect(
        world, lambda t: tags_of(t) & {"pii", "audio"}
    )
    assert ids(staff_client, tags="audio") == expect(world, lambda t: "audio" in tags_of(t))
    # "gold" is on no dataset: AND with it matches nothing, ANY ignores it.
    assert ids(staff_client, tags="audio,gold") == set()
    assert ids(staff_client, tags="audio,gold", tags_mode="any") == expect(
        world, lambda t: "audio" in tags_of(t)
    )


def test_tag_filter_does_not_duplicate_rows(staff_client, world):
    body = fetch(staff_client, tags="audio,text", tags_mode="any", page_size=500)
    served = [r["task_id"] for r in body["results"]]
    assert len(served) == len(set(served)) == body["count"]


@pytest.mark.parametrize(
    ("text", "field"),
    [("pOLl", "project"), ("ARbo", "dataset"), ("qUIn", "annotator"), ("zEPHYR", "task")],
)
def test_search_each_field_case_insensitive(staff_client, world, text, field):
    def value(t):
        return {
            "project": t.job.title,
            "dataset": t.dataset.title,
            "annotator": t.annotator.name,
            "task": t.name,
        }[field]

    expected = expect(world, lambda t: text.lower() in value(t).lower())
    assert expected, "the fixture must contain a match"
    assert ids(staff_client, search=text) == expected


def test_search_spans_fields_with_or(staff_client, world):
    # "a" is in many names; the result is the union over the four fields.
    expected = expect(
        world,
        lambda t: any(
            "ly" in v.lower()
            for v in (t.job.title, t.dataset.title, t.annotator.name, t.name, *tags_of(t))
        ),
    )
    assert ids(staff_client, search="LY") == expected


def test_search_matches_tag_names(staff_client, world):
    # "ext" is in no title or name, only in the tag "text".
    expected = expect(world, lambda t: "text" in tags_of(t))
    assert expected and expected != expect(world, lambda t: True)
    assert ids(staff_client, search="EXT") == expected


def test_status_repeatable_and_comma_separated(staff_client, world):
    wanted = {"approved", "rejected"}
    expected = expect(world, lambda t: t.status in wanted)
    assert ids(staff_client, status=["approved", "rejected"]) == expected
    assert ids(staff_client, status="approved,rejected") == expected


def test_rating_bounds_inclusive_and_exclude_unrated(staff_client, world):
    def rated(low=None, high=None):
        return expect(
            world,
            lambda t: (
                t.quality_rating is not None
                and (low is None or t.quality_rating >= Decimal(low))
                and (high is None or t.quality_rating <= Decimal(high))
            ),
        )

    assert ids(staff_client, rating_min="3.5") == rated(low="3.5")
    assert ids(staff_client, rating_max="2.5") == rated(high="2.5")
    assert ids(staff_client, rating_min="2.5", rating_max="4.0") == rated("2.5", "4.0")
    assert ids(staff_client, rating_min="0") == rated(low="0")
    assert ids(staff_client, rating_min="5", rating_max="5") == rated("5", "5")
    unrated = expect(world, lambda t: t.quality_rating is None)
    assert unrated and not (ids(staff_client, rating_min="0") & unrated)


def test_created_date_bounds_are_inclusive_whole_days(staff_client, world):
    march = expect(
        world,
        lambda t: (
            dt.datetime(2025, 3, 1, tzinfo=UTC)
            <= t.created_at
            < dt.datetime(2025, 4, 1, tzinfo=UTC)
        ),
    )
    served = ids(staff_client, created_from="2025-03-01", created_to="2025-03-31")
    assert served == march
    first, before, last, after = (world.tasks[i] for i in range(4))
    assert {first.pk, last.pk} <= served
    assert before.pk not in served and after.pk not in served
    assert ids(staff_client, created_from="2025-04-01") == expect(
        world, lambda t: t.created_at >= dt.datetime(2025, 4, 1, tzinfo=UTC)
    )
    assert ids(staff_client, created_to="2025-02-28") == {before.pk}


def test_created_bounds_accept_datetimes(staff_client, world):
    served = ids(
        staff_client, created_from="2025-03-31T23:59:59.999999Z", created_to="2025-04-01T00:00:00"
    )
    assert served == {world.tasks[2].pk, world.tasks[3].pk}


def test_filters_combine_with_and(staff_client, world):
    apollo = world.jobs["Apollo"].pk
    expected = expect(
        world,
        lambda t: (
            t.job_id == apollo
            and "audio" in tags_of(t)
            and t.status in {"approved", "in_review", "submitted"}
            and t.quality_rating is not None
            and t.quality_rating >= Decimal("2.5")
            and t.created_at >= dt.datetime(2025, 3, 5, tzinfo=UTC)
        ),
    )
    assert expected
    served = ids(
        staff_client,
        project=apollo,
        tags="audio",
        status="approved,in_review,submitted",
        rating_min="2.5",
        created_from="2025-03-05",
    )
    assert served == expected


def test_facets_come_from_rows_matching_the_other_filters(staff_client, world):
    body = fetch(staff_client)
    assert body["facets"]["projects"] == [
        {"id": world.jobs["Apollo"].pk, "title": "Apollo"},
        {"id": world.jobs["Borealis"].pk, "title": "Borealis"},
    ]  # Cascade has no tasks
    assert [a["name"] for a in body["facets"]["annotators"]] == ["Quinn", "Rafferty", "Sullivan"]
    assert body["facets"]["tags"] == ["audio", "pii", "text"]  # gold is on no dataset

    # Filtering by a project narrows the other facets but keeps every project selectable.
    apollo = fetch(staff_client, project=world.jobs["Apollo"].pk)["facets"]
    assert [p["title"] for p in apollo["projects"]] == ["Apollo", "Borealis"]
    assert apollo["tags"] == ["audio", "text"]
    # A tag filter narrows projects to those whose datasets carry it.
    pii = fetch(staff_client, tags="pii")["facets"]
    assert [p["title"] for p in pii["projects"]] == ["Borealis"]
    assert pii["tags"] == ["audio", "pii", "text"]
    # A status filter applies to every facet.
    quinn_only = fetch(staff_client, search="quinn")["facets"]
    assert [a["name"] for a in quinn_only["annotators"]] == ["Quinn"]


def test_query_count_does_not_grow_with_page_size(staff_client, world):
    counts = []
    for size in (2, 40):
        with CaptureQueriesContext(connection) as queries:
            body = fetch(staff_client, page_size=size, tags="audio,text", tags_mode="any")
        assert len(body["results"]) == min(size, body["count"])
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # session, user, tag lookup, count, page ids, rows, tags, the listed rows' distinct
    # (project, annotator, dataset) triples, three facets
    assert counts[0] <= 11


def test_facets_with_project_and_tag_filters_together(staff_client, world):
    body = fetch(staff_client, project=world.jobs["Apollo"].pk, tags="pii")
    assert body["count"] == 0
    # Each facet drops only its own filter.
    assert [p["title"] for p in body["facets"]["projects"]] == ["Borealis"]
    assert body["facets"]["tags"] == ["audio", "text"]
    assert body["facets"]["annotators"] == []
    # With "any", Apollo's audio datasets qualify again.
    anyof = fetch(staff_client, project=world.jobs["Apollo"].pk, tags="pii,audio", tags_mode="any")
    assert anyof["count"] == sum(1 for t in world.tasks if t.job.title == "Apollo")
    assert [p["title"] for p in anyof["facets"]["projects"]] == ["Apollo", "Borealis"]
