"""SQL the task table is indexed on and read through, written once for the triggers, the ORM
and the hand-written queries."""

from django.db.models import DateField, Func

TASKS = "admin_explorer_annotationtask"

#: The UTC calendar day a task was created, per database (``{row}`` names the row: the
#: triggers' transition table or the task table). SQLite keeps ``created_at`` as UTC text.
CREATION_DAY_SQL = {
    "postgresql": "(({row}.created_at AT TIME ZONE 'UTC')::date)",
    "sqlite": "date({row}.created_at)",
}


class CreationDay(Func):
    """``CREATION_DAY_SQL`` of a datetime column, as an ORM expression: the query and the
    indexes built on it compile to the same SQL, so the database can use those indexes."""

    output_field = DateField()

    def as_sql(self, compiler, connection, **extra_context):
        template = CREATION_DAY_SQL[connection.vendor].replace(
            "{row}.created_at", "%(expressions)s"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)


def indexed_by(sql: str, index: str) -> str:
    """SQLite: ``sql`` made to read the task table through ``index`` (``INDEXED BY``)."""
    table = f'FROM "{TASKS}"'
    assert table in sql, sql
    return sql.replace(table, f'{table} INDEXED BY "{index}"', 1)
