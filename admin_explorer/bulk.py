"""Bulk task loads: on SQLite, the per-row insert triggers are off for the batch; into an
empty table, the indexes are built once at the end.

SQLite runs a row trigger per inserted task; for a million tasks that is a million FTS
inserts and tally upserts. Instead the batch goes in with those triggers dropped and the
name index and the tally catch up with one statement each. PostgreSQL needs none of this:
its trigram index is an ordinary index and its tally triggers run once per statement.

A dozen indexes updated row by row, most in an order other than the rows', make a load
several times slower than sorting each index once afterwards; and the planner's statistics
describe an empty table until they are gathered again.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from . import fulltext, tally


def insert_tasks(cursor, insert_rows) -> None:
    """Run ``insert_rows()`` (new tasks only), then index and count the new rows.

    Call inside a transaction: the triggers are dropped and recreated within it, so a
    failure rolls their removal back too and no later write goes unindexed or uncounted.
    """
    if connection.vendor != "sqlite":
        insert_rows()
        return
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {tally.TASKS}")
    (last_id,) = cursor.fetchone()
    cursor.execute(f"DROP TRIGGER IF EXISTS {fulltext.TABLE}_insert")
    for kept in tally.TALLIES:
        cursor.execute(f"DROP TRIGGER IF EXISTS {kept.table}_insert")
    insert_rows()
    fulltext.add_rows_after(cursor, last_id)
    cursor.execute(fulltext.INSERT_TRIGGER)
    for kept in tally.TALLIES:
        kept.add_rows_after(cursor, last_id)
        cursor.execute(kept.sqlite_insert_trigger)


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the task table's indexes that no constraint owns."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [tally.TASKS],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [tally.TASKS],
        )
    return list(cursor.fetchall())


@contextmanager
def indexes_built_after() -> Iterator[None]:
    """Load tasks into an empty table with its secondary indexes dropped; rebuild them after,
    also when the load fails, then refresh the planner's statistics.

    Does nothing special when tasks exist (their readers need the indexes) or on other
    databases.
    """
    if connection.vendor not in ("sqlite", "postgresql"):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {tally.TASKS})")
        if cursor.fetchone()[0]:
            yield
            return
        indexes = _secondary_indexes(cursor)
        for name, _create in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and connection.in_atomic_block:
                # Inside one transaction the foreign-key checks wait for its end, and
                # PostgreSQL builds no index on a table with checks pending: run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for _name, create in indexes:
                cursor.execute(create)
            refresh_statistics(cursor)


def refresh_statistics(cursor) -> None:
    """Gather the planner's statistics; on PostgreSQL outside a transaction also VACUUM, which
    marks the pages all-visible so index-only scans need not visit the table.

    There the tallies are first rewritten compactly: each batch of a load rewrote every group
    it touched, and the new row versions went to the end of the table (free space inside a
    page is found only after a VACUUM). After a 10M-task load the task tally's 300 rows
    filled 150 pages (3 when rewritten), the month tally's 7,303 rows 540 (69) and the
    annotator tally's 18,000 rows 727 (148), and every count and menu read them in full.
    The tallies are small: this takes milliseconds, under a lock held as briefly."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        tables = ", ".join(kept.table for kept in tally.TALLIES)
        cursor.execute(f"VACUUM (FULL) {tables}")
        cursor.execute("VACUUM (ANALYZE)")
    else:
        cursor.execute("ANALYZE")
