"""SQLite's FTS5 trigram index over task names (PostgreSQL uses pg_trgm instead).

An external-content FTS5 table holds only the index; the names stay in the task table and
triggers keep the index in step. Migration 0004 creates it; bulk loads go through
``bulk.insert_tasks`` so a million rows are indexed in one pass, not one trigger call each.
"""

TABLE = "admin_explorer_task_name_fts"
TASKS = "admin_explorer_annotationtask"

CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    f"name, content='{TASKS}', content_rowid='id', tokenize='trigram')"
)
INSERT_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON {TASKS} BEGIN "
    f"INSERT INTO {TABLE}(rowid, name) VALUES (new.id, new.name); END"
)
OTHER_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON {TASKS} BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, name) VALUES ('delete', old.id, old.name); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF name ON {TASKS} BEGIN "
    f"INSERT INTO {TABLE}({TABLE}, rowid, name) VALUES ('delete', old.id, old.name); "
    f"INSERT INTO {TABLE}(rowid, name) VALUES (new.id, new.name); END",
]
REBUILD = f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')"
CHECK = f"INSERT INTO {TABLE}({TABLE}, rank) VALUES ('integrity-check', 1)"
CREATE = [CREATE_TABLE, INSERT_TRIGGER, *OTHER_TRIGGERS, REBUILD]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def add_rows_after(cursor, last_id: int) -> None:
    """Index the names of the tasks with ids above ``last_id`` (their trigger was off)."""
    cursor.execute(
        f"INSERT INTO {TABLE}(rowid, name) SELECT id, name FROM {TASKS} WHERE id > %s", [last_id]
    )
