"""Every sort column in both directions, walked page by page: each id exactly once, in order."""

import pytest

from admin_explorer.selectors import SORT_FIELDS

from .conftest import all_ids

KEYS = {
    "task_name": lambda t: t.name,
    "status": lambda t: t.status,
    "quality_rating": lambda t: t.quality_rating,
    "created_at": lambda t: t.created_at,
    "updated_at": lambda t: t.updated_at,
    "project_title": lambda t: t.job.title,
    "dataset_title": lambda t: t.dataset.title,
    "annotator_name": lambda t: t.annotator.name,
}


def expected_order(tasks, column, direction):
    """Blank values come last in both directions; ties go by id in the same direction."""
    key = KEYS[column]
    blank = [t for t in tasks if key(t) is None]
    valued = [t for t in tasks if key(t) is not None]
    descending = direction == "desc"
    ordered = sorted(valued, key=lambda t: (key(t), t.pk), reverse=descending)
    ordered += sorted(blank, key=lambda t: t.pk, reverse=descending)
    return [t.pk for t in ordered]


def test_every_sort_field_is_covered():
    assert set(KEYS) == set(SORT_FIELDS)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", list(KEYS))
def test_sort_walks_every_row_once_in_order(staff_client, world, column, direction):
    served = all_ids(staff_client, page_size=5, sort_by=column, sort_dir=direction)
    assert len(served) == len(set(served)) == len(world.tasks)
    assert served == expected_order(world.tasks, column, direction)


def test_default_sort_is_created_at_desc(staff_client, world):
    assert all_ids(staff_client, page_size=7) == expected_order(world.tasks, "created_at", "desc")


def test_sort_applies_together_with_filters(staff_client, world):
    apollo = world.jobs["Apollo"]
    served = all_ids(
        staff_client, page_size=4, project=apollo.pk, sort_by="quality_rating", sort_dir="asc"
    )
    subset = [t for t in world.tasks if t.job_id == apollo.pk]
    assert served == expected_order(subset, "quality_rating", "asc")


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_unrated_tasks_come_last_in_both_directions(staff_client, world, direction):
    served = all_ids(staff_client, page_size=500, sort_by="quality_rating", sort_dir=direction)
    unrated = {t.pk for t in world.tasks if t.quality_rating is None}
    assert unrated and set(served[-len(unrated) :]) == unrated
