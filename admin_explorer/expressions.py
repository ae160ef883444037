"""SQL expressions the task table is indexed on, written once for the triggers and the ORM."""

from django.db.models import DateField, Func

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
