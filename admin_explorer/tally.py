"""Task counts per (project, dataset, status), kept exact by database triggers.

Counting a million tasks to show "1,000,000 results" reads a million index entries on every
page load; the explorer's filter menus ask similar questions. Project, tags and status are
all properties of the few hundred (project, dataset, status) groups, so while only those
filters are in use, the count and the project and tag menus are read from this small table
instead. Triggers update it in the same transaction as the task write, so it is never stale
and a rollback undoes both; migration 0006 installs them and fills the table.

PostgreSQL uses statement-level triggers with transition tables: a ``COPY`` or a bulk
``UPDATE`` adjusts each group once per statement. SQLite has only row triggers, so bulk
loads drop the insert trigger for the batch and add the batch's counts in one statement
(``bulk.insert_tasks``). Writers that change tasks in the same group at the same moment queue on
that group's row until the first commits: fine for annotation work, worth knowing before
loading from many processes at once. Other databases have no triggers here and the explorer
counts tasks directly (``available``).
"""

from django.db import connection

TABLE = "admin_explorer_tasktally"
TASKS = "admin_explorer_annotationtask"
KEY = "job_id, dataset_id, status"

# ---------------------------------------------------------------- PostgreSQL
_PG_APPLY = f"""
INSERT INTO {TABLE} ({KEY}, n)
SELECT {KEY}, SUM(delta) FROM ({{changes}}) AS changes
GROUP BY {KEY} HAVING SUM(delta) <> 0 ORDER BY {KEY}
ON CONFLICT ({KEY}) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n
"""
_PG_ADDED = f"SELECT {KEY}, 1 AS delta FROM added"
_PG_REMOVED = f"SELECT {KEY}, -1 AS delta FROM removed"
_PG_FUNCTIONS = {
    "insert": _PG_APPLY.format(changes=_PG_ADDED),
    "delete": _PG_APPLY.format(changes=_PG_REMOVED),
    "update": _PG_APPLY.format(changes=f"{_PG_ADDED} UNION ALL {_PG_REMOVED}"),
}
_PG_TRANSITIONS = {
    "insert": "NEW TABLE AS added",
    "delete": "OLD TABLE AS removed",
    "update": "OLD TABLE AS removed NEW TABLE AS added",
}
POSTGRESQL_CREATE = [
    statement
    for op, body in _PG_FUNCTIONS.items()
    for statement in (
        f"CREATE OR REPLACE FUNCTION {TABLE}_{op}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {body.strip()}; RETURN NULL; END $$",
        f"CREATE TRIGGER {TABLE}_{op} AFTER {op.upper()} ON {TASKS} "
        f"REFERENCING {_PG_TRANSITIONS[op]} FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{op}()",
    )
] + [
    f"CREATE OR REPLACE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$",
    f"CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON {TASKS} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_truncate()",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_{op} ON {TASKS}"
    for op in ("insert", "delete", "update", "truncate")
] + [f"DROP FUNCTION IF EXISTS {TABLE}_{op}()" for op in ("insert", "delete", "update", "truncate")]

# ---------------------------------------------------------------- SQLite
_SQLITE_ADD = (
    f"INSERT INTO {TABLE} ({KEY}, n) VALUES (new.job_id, new.dataset_id, new.status, 1) "
    f"ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;"
)
_SQLITE_REMOVE = (
    f"UPDATE {TABLE} SET n = n - 1 "
    f"WHERE job_id = old.job_id AND dataset_id = old.dataset_id AND status = old.status;"
)
SQLITE_INSERT_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON {TASKS} BEGIN {_SQLITE_ADD} END"
)
SQLITE_CREATE = [
    SQLITE_INSERT_TRIGGER,
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON {TASKS} "
    f"BEGIN {_SQLITE_REMOVE} END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF {KEY} ON {TASKS} "
    f"WHEN old.job_id IS NOT new.job_id OR old.dataset_id IS NOT new.dataset_id "
    f"OR old.status IS NOT new.status BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_{op}" for op in ("insert", "delete", "update")]

# ---------------------------------------------------------------- both
#: Recount every group from the tasks (after the triggers were bypassed, e.g. a file restore).
REBUILD = [
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, COUNT(*) FROM {TASKS} GROUP BY {KEY}",
]
#: Groups whose stored count differs from the tasks (empty when the tally is exact).
DRIFT = f"""
SELECT {KEY}, stored, actual FROM (
    SELECT t.job_id, t.dataset_id, t.status, t.n AS stored, COALESCE(c.n, 0) AS actual
    FROM {TABLE} t LEFT JOIN (SELECT {KEY}, COUNT(*) AS n FROM {TASKS} GROUP BY {KEY}) c
    ON c.job_id = t.job_id AND c.dataset_id = t.dataset_id AND c.status = t.status
    UNION ALL
    SELECT c.job_id, c.dataset_id, c.status, 0, c.n
    FROM (SELECT {KEY}, COUNT(*) AS n FROM {TASKS} GROUP BY {KEY}) c
    WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t WHERE t.job_id = c.job_id
        AND t.dataset_id = c.dataset_id AND t.status = c.status)
) d WHERE stored <> actual
"""


def available() -> bool:
    """Whether this database keeps the tally (the triggers exist for SQLite and PostgreSQL)."""
    return connection.vendor in ("sqlite", "postgresql")


def create_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, [])


def lock_tasks(cursor) -> None:
    """Hold task writes back while the tally is recounted (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {TASKS} IN SHARE MODE")


def add_rows_after(cursor, last_id: int) -> None:
    """Count the tasks with ids above ``last_id`` into the tally (their trigger was off)."""
    cursor.execute(
        f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, COUNT(*) FROM {TASKS} "
        f"WHERE id > %s GROUP BY {KEY} ORDER BY {KEY} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET n = {TABLE}.n + excluded.n",
        [last_id],
    )
