"""``in_list``: the same rows as ``__in`` on either database, however the list is bound."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_explorer.lookups import IdArray, in_list
from admin_explorer.models import AnnotationTask


@pytest.mark.parametrize("field", ["pk", "job_id", "dataset_id", "annotator_id"])
def test_an_id_list_keeps_the_rows_in_it(world, field):
    values = sorted({getattr(t, field) for t in world.tasks[::3]})
    expected = set(AnnotationTask.objects.filter(**{f"{field}__in": values}).values_list("pk"))
    got = set(AnnotationTask.objects.filter(in_list(field, values)).values_list("pk"))
    assert got == expected and got
    assert not AnnotationTask.objects.filter(in_list(field, [])).exists()


def test_text_values_and_relations_work_too(world):
    tasks = AnnotationTask.objects.filter(in_list("status", ["approved", "pending"]))
    assert {t.status for t in tasks} == {"approved", "pending"}
    job = world.jobs["Apollo"]
    assert set(
        AnnotationTask.objects.filter(in_list("job", [job.pk])).values_list("job_id", flat=True)
    ) == {job.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL binds one array")
def test_postgresql_gets_one_array_literal_cast_to_the_column_type(world):
    ids = [t.pk for t in world.tasks]
    with CaptureQueriesContext(connection) as captured:
        assert AnnotationTask.objects.filter(in_list("pk", ids)).count() == len(ids)
    sql = captured.captured_queries[-1]["sql"]
    assert f"= ANY('{{{','.join(map(str, ids))}}}'::bigint[])" in sql


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite writes the list inline")
def test_other_databases_get_the_ids_inline_with_no_parameter_each(world):
    ids = [t.pk for t in world.tasks]
    sql, params = (
        AnnotationTask.objects.filter(in_list("pk", ids)).values("pk").query.sql_with_params()
    )
    assert f"IN ({','.join(map(str, ids))})" in sql and params == ()


def test_only_integers_are_written_out():
    with pytest.raises(TypeError):
        IdArray([1, "2) OR (1=1"])
    with pytest.raises(TypeError):
        IdArray([1, True])
