"""Task counts per group, kept exact by database triggers: six tallies.

Counting a million tasks to show "1,000,000 results" reads a million index entries on every
page load; the explorer's filter menus ask similar questions. So the tasks are also counted
in six small tables, kept by triggers:

- ``GROUPS``: per (project, dataset, status), a few hundred rows. Project, tags and status
  are all properties of those groups, so while only those filters are in use, the count and
  the project and tag menus are read from it (migration 0006).
- ``ANNOTATORS``: per (annotator, status), a few thousand rows. While only the annotator and
  status filters are in use, the count and the annotator menu come from it (migration 0012).
- ``DAYS``: per (UTC day of creation, status), a few thousand rows. While only the date range
  and status filters are in use, the count is its sum over the whole days plus the tasks of
  the part-days at the range's ends (migration 0013).
- ``RATINGS``: per (rating, status), a few hundred rows. While only the rating bounds and the
  status filter are in use, the count comes from it (migration 0014).
- ``MONTHS``: per (UTC month of creation, project, dataset, status), a few thousand rows. A
  date range under project, tag and status filters is counted as its sum over the whole
  months plus the tasks of the part-months at the range's ends (migration 0015).
- ``ANNOTATOR_PROJECTS``: per (annotator, project), a few tens of thousands of rows at most.
  While only project and annotator filters are in use, the annotator menu is read from it
  (migration 0016): the annotators of the smallest project at 10M were otherwise found among
  its 166,000 tasks.

Triggers update them in the same transaction as the task write, so they are never stale and a
rollback undoes both. PostgreSQL uses statement-level triggers with transition tables: a
``COPY`` or a bulk ``UPDATE`` adjusts each group once per statement. SQLite has only row
triggers, so bulk loads drop the insert triggers for the batch and add the batch's counts in one
statement each (``bulk.insert_tasks``). Writers that change tasks in the same group at the same
moment queue on that group's row until the first commits: fine for annotation work, worth
knowing before loading from many processes at once. Other databases have no triggers here and
the explorer counts tasks directly (``available``).
"""

from dataclasses import dataclass

from django.db import connection

from .expressions import CREATION_DAY_SQL

TASKS = "admin_explorer_annotationtask"
_OPS = ("insert", "delete", "update", "truncate")


@dataclass(frozen=True, eq=False)
class Tally:
    """One trigger-kept count table: ``table`` holds ``n`` tasks per value of ``columns``.

    A column is the task column of the same name unless ``derived`` gives its expression per
    database (``{row}`` stands for the task row) and the task column it reads.
    """

    table: str
    columns: tuple[str, ...]
    derived: tuple[tuple[str, str, dict[str, str]], ...] = ()  # (column, task column, sql)

    @property
    def key(self) -> str:
        return ", ".join(self.columns)

    def _source(self, column: str, row: str, vendor: str) -> str:
        for name, _read, sql in self.derived:
            if name == column:
                return sql[vendor].format(row=row)
        return f"{row}.{column}"

    def _values(self, row: str, vendor: str) -> str:
        """The key of ``row`` (a task row alias), each value named after its tally column."""
        return ", ".join(f"{self._source(c, row, vendor)} AS {c}" for c in self.columns)

    @property
    def watched(self) -> tuple[str, ...]:
        """The task columns the key is made of (an update of any other leaves it alone)."""
        reads = {name: read for name, read, _sql in self.derived}
        return tuple(reads.get(c, c) for c in self.columns)

    def _match(self, left: str, right: str) -> str:
        return " AND ".join(f"{left}.{c} = {right}.{c}" for c in self.columns)

    def _counts(self, vendor: str, where: str = "") -> str:
        """Tasks per key, counted from the task table."""
        positions = ", ".join(str(i + 1) for i in range(len(self.columns)))
        return (
            f"SELECT {self._values(TASKS, vendor)}, COUNT(*) AS n FROM {TASKS}{where} "
            f"GROUP BY {positions}"
        )

    # ------------------------------------------------------------ PostgreSQL
    def _pg_apply(self, changes: str) -> str:
        key, table = self.key, self.table
        return (
            f"INSERT INTO {table} ({key}, n) SELECT {key}, SUM(delta) FROM ({changes}) AS changes "
            f"GROUP BY {key} HAVING SUM(delta) <> 0 ORDER BY {key} "
            f"ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + EXCLUDED.n"
        )

    def postgresql_create(self) -> list[str]:
        added = f"SELECT {self._values('added', 'postgresql')}, 1 AS delta FROM added"
        removed = f"SELECT {self._values('removed', 'postgresql')}, -1 AS delta FROM removed"
        bodies = {
            "insert": (self._pg_apply(added), "NEW TABLE AS added"),
            "delete": (self._pg_apply(removed), "OLD TABLE AS removed"),
            "update": (
                self._pg_apply(f"{added} UNION ALL {removed}"),
                "OLD TABLE AS removed NEW TABLE AS added",
            ),
        }
        statements = []
        for op, (body, transitions) in bodies.items():
            statements += [
                f"CREATE OR REPLACE FUNCTION {self.table}_{op}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$",
                f"CREATE TRIGGER {self.table}_{op} AFTER {op.upper()} ON {TASKS} "
                f"REFERENCING {transitions} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {self.table}_{op}()",
            ]
        return [
            *statements,
            f"CREATE OR REPLACE FUNCTION {self.table}_truncate() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN DELETE FROM {self.table}; RETURN NULL; END $$",
            f"CREATE TRIGGER {self.table}_truncate AFTER TRUNCATE ON {TASKS} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {self.table}_truncate()",
        ]

    def postgresql_drop(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.table}_{op} ON {TASKS}" for op in _OPS] + [
            f"DROP FUNCTION IF EXISTS {self.table}_{op}()" for op in _OPS
        ]

    # ------------------------------------------------------------ SQLite
    def _sqlite_add(self) -> str:
        values = ", ".join(self._source(c, "new", "sqlite") for c in self.columns)
        return (
            f"INSERT INTO {self.table} ({self.key}, n) VALUES ({values}, 1) "
            f"ON CONFLICT ({self.key}) DO UPDATE SET n = n + 1;"
        )

    def _sqlite_remove(self) -> str:
        where = " AND ".join(f"{c} = {self._source(c, 'old', 'sqlite')}" for c in self.columns)
        return f"UPDATE {self.table} SET n = n - 1 WHERE {where};"

    @property
    def sqlite_insert_trigger(self) -> str:
        return (
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_insert AFTER INSERT ON {TASKS} "
            f"BEGIN {self._sqlite_add()} END"
        )

    def sqlite_create(self) -> list[str]:
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in self.watched)
        return [
            self.sqlite_insert_trigger,
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_delete AFTER DELETE ON {TASKS} "
            f"BEGIN {self._sqlite_remove()} END",
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_update "
            f"AFTER UPDATE OF {', '.join(self.watched)} "
            f"ON {TASKS} WHEN {changed} BEGIN {self._sqlite_remove()} {self._sqlite_add()} END",
        ]

    def sqlite_drop(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.table}_{op}" for op in _OPS[:3]]

    # ------------------------------------------------------------ both
    def create_statements(self, vendor: str) -> list[str]:
        return {"sqlite": self.sqlite_create, "postgresql": self.postgresql_create}.get(
            vendor, list
        )()

    def drop_statements(self, vendor: str) -> list[str]:
        return {"sqlite": self.sqlite_drop, "postgresql": self.postgresql_drop}.get(vendor, list)()

    def rebuild(self, vendor: str) -> list[str]:
        """Recount every group from the tasks (after the triggers were bypassed)."""
        return [
            f"DELETE FROM {self.table}",
            f"INSERT INTO {self.table} ({self.key}, n) SELECT {self.key}, n "
            f"FROM ({self._counts(vendor)}) AS counts",
        ]

    def drift(self, vendor: str) -> str:
        """Groups whose stored count differs from the tasks (no rows when the tally is exact):
        the key columns, then the stored and the actual count."""
        counts = self._counts(vendor)
        stored_key = ", ".join(f"t.{c}" for c in self.columns)
        actual_key = ", ".join(f"c.{c}" for c in self.columns)
        return (
            f"SELECT {self.key}, stored, actual FROM ("
            f"SELECT {stored_key}, t.n AS stored, COALESCE(c.n, 0) AS actual "
            f"FROM {self.table} t LEFT JOIN ({counts}) c ON {self._match('c', 't')} "
            f"UNION ALL SELECT {actual_key}, 0, c.n FROM ({counts}) c "
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} t WHERE {self._match('t', 'c')})"
            f") d WHERE stored <> actual"
        )

    def migration(self, model_name: str) -> tuple:
        """The (forward, backward) pair for ``RunPython``: create the unmanaged ``model_name``
        table with its triggers and fill it from the tasks already there, or drop both. A
        database without triggers gets neither, and its counts read the tasks."""

        def install(apps, schema_editor):
            vendor = schema_editor.connection.vendor
            triggers = self.create_statements(vendor)
            if not triggers:
                return
            schema_editor.create_model(apps.get_model("admin_explorer", model_name))
            for statement in [*triggers, *self.rebuild(vendor)]:
                schema_editor.execute(statement)

        def uninstall(apps, schema_editor):
            statements = self.drop_statements(schema_editor.connection.vendor)
            if not statements:
                return
            for statement in statements:
                schema_editor.execute(statement)
            schema_editor.delete_model(apps.get_model("admin_explorer", model_name))

        return install, uninstall

    def add_rows_after(self, cursor, last_id: int) -> None:
        """Count the tasks with ids above ``last_id`` in (their insert trigger was off)."""
        counts = self._counts(connection.vendor, " WHERE id > %s")
        cursor.execute(
            f"INSERT INTO {self.table} ({self.key}, n) SELECT {self.key}, n "
            f"FROM ({counts}) AS counts WHERE 1 = 1 ORDER BY {self.key} "
            f"ON CONFLICT ({self.key}) DO UPDATE SET n = {self.table}.n + excluded.n",
            [last_id],
        )


GROUPS = Tally("admin_explorer_tasktally", ("job_id", "dataset_id", "status"))
ANNOTATORS = Tally("admin_explorer_annotatortally", ("annotator_id", "status"))
#: The UTC day a task was created: any range of whole days is a sum over this tally, and the
#: hours a range takes of its first and last day (another time zone, a datetime bound) are
#: counted from the tasks.
DAYS = Tally(
    "admin_explorer_daytally",
    ("created_day", "status"),
    derived=(
        (
            "created_day",
            "created_at",
            CREATION_DAY_SQL,
        ),
    ),
)
#: Unrated tasks are kept under -1 (a unique key treats NULLs as all different); no rating
#: bound admits it.
RATINGS = Tally(
    "admin_explorer_ratingtally",
    ("quality_rating", "status"),
    derived=(
        (
            "quality_rating",
            "quality_rating",
            {vendor: "COALESCE({row}.quality_rating, -1)" for vendor in ("postgresql", "sqlite")},
        ),
    ),
)
#: The UTC month a task was created (its first day), with the task tally's groups: a date range
#: under project, tag and status filters, which the day tally cannot split by dataset.
MONTHS = Tally(
    "admin_explorer_monthtally",
    ("created_month", "job_id", "dataset_id", "status"),
    derived=(
        (
            "created_month",
            "created_at",
            {
                "postgresql": "(date_trunc('month', {row}.created_at AT TIME ZONE 'UTC')::date)",
                "sqlite": "date({row}.created_at, 'start of month')",
            },
        ),
    ),
)
ANNOTATOR_PROJECTS = Tally("admin_explorer_annotatorprojecttally", ("job_id", "annotator_id"))
TALLIES = (GROUPS, ANNOTATORS, DAYS, RATINGS, MONTHS, ANNOTATOR_PROJECTS)


def available() -> bool:
    """Whether this database keeps the tallies (the triggers exist for SQLite and PostgreSQL)."""
    return connection.vendor in ("sqlite", "postgresql")


def lock_tasks(cursor) -> None:
    """Hold task writes back while a tally is recounted (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {TASKS} IN SHARE MODE")
