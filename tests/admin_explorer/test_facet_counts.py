"""The filter menus' counts: tasks per value under every filter but the menu's own."""

from collections import Counter

import pytest

from .conftest import tags_of

URL = "/api/admin/data/counts"


def counts(client, **params) -> dict[str, int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return {item["label"]: item["count"] for item in response.json()["counts"]}


@pytest.mark.parametrize("status", [None, "approved"])
def test_project_annotator_and_tag_counts_match_the_rows(staff_client, world, status):
    tasks = [t for t in world.tasks if status is None or t.status == status]
    params = {"status": status} if status else {}
    assert counts(staff_client, facet="projects", **params) == Counter(t.job.title for t in tasks)
    assert counts(staff_client, facet="annotators", **params) == Counter(
        t.annotator.name for t in tasks
    )
    assert counts(staff_client, facet="tags", **params) == Counter(
        tag for t in tasks for tag in tags_of(t)
    )


def test_a_menu_ignores_its_own_filter_but_not_the_others(staff_client, world):
    quinn = world.annotators["Quinn"].pk
    apollo = world.jobs["Apollo"].pk
    got = counts(staff_client, facet="annotators", annotator=quinn, project=apollo)
    expected = Counter(t.annotator.name for t in world.tasks if t.job.title == "Apollo")
    assert got == expected and len(got) > 1
    by_project = counts(staff_client, facet="projects", annotator=quinn, project=apollo)
    assert by_project == Counter(t.job.title for t in world.tasks if t.annotator.name == "Quinn")


def test_values_come_most_tasks_first_with_ids_as_values(staff_client, world):
    body = staff_client.get(URL, {"facet": "annotators", "search": "lynx"}).json()
    numbers = [item["count"] for item in body["counts"]]
    assert numbers == sorted(numbers, reverse=True) and all(n > 0 for n in numbers)
    ids = {str(a.pk) for a in world.annotators.values()}
    assert {item["value"] for item in body["counts"]} <= ids


def test_bad_parameters_are_named(staff_client, world):
    response = staff_client.get(URL, {"facet": "colours", "rating_min": "9"})
    assert response.status_code == 400
    assert set(response.json()) == {"facet", "rating_min"}
    assert set(staff_client.get(URL).json()) == {"facet"}


def test_only_staff_get_counts(plain_client, db):
    from django.test import Client

    assert Client().get(URL, {"facet": "tags"}).status_code == 401
    assert plain_client.get(URL, {"facet": "tags"}).status_code == 403
