"""Bulk task loads: on SQLite, the per-row insert triggers are off for the batch.

SQLite runs a row trigger per inserted task; for a million tasks that is a million FTS
inserts and tally upserts. Instead the batch goes in with those triggers dropped and the
name index and the tally catch up with one statement each. PostgreSQL needs none of this:
its trigram index is an ordinary index and its tally triggers run once per statement.
"""

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
    cursor.execute(f"DROP TRIGGER IF EXISTS {tally.TABLE}_insert")
    insert_rows()
    fulltext.add_rows_after(cursor, last_id)
    tally.add_rows_after(cursor, last_id)
    cursor.execute(fulltext.INSERT_TRIGGER)
    cursor.execute(tally.SQLITE_INSERT_TRIGGER)
