"""Keeps the tables that triggers derive from the task table out of fixtures.

The task-name index and the task tally are written only by triggers on the task table. A
``dumpdata`` that included them, loaded with ``loaddata``, would write them a second time on
top of what the triggers wrote for the loaded tasks (a unique-constraint error for the tally,
duplicate entries for the name index). Saying no to ``allow_migrate`` for these models makes
``dumpdata`` leave them out and ``loaddata`` skip them in older dumps; their tables are
created by their migrations' own operations, not by ``migrate``'s model handling.
"""

DERIVED_MODELS = frozenset(
    {
        "tasknameindex",
        "tasktally",
        "annotatortally",
        "daytally",
        "ratingtally",
        "monthtally",
        "annotatorprojecttally",
    }
)


class DerivedTablesRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "admin_explorer" and model_name in DERIVED_MODELS:
            return False
        return None
