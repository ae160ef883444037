"""``run_export_worker``: django_tasks_db's worker for every queue, plus recovery.

Same options as ``db_worker`` (``--batch``, ``--max-tasks``, ``--interval`` ...);
``--queue-name`` defaults to ``*``. Adds a heartbeat and requeues tasks left
RUNNING by a worker that died (see ``media_export.worker``), and encodes running
interviews' audio ahead of their End (``media_export.preencode``).
"""

from __future__ import annotations

import logging

from django_tasks_db.management.commands import db_worker

from media_export.preencode import Preencoder
from media_export.worker import HEARTBEAT_SECONDS, STALE_SECONDS, Heartbeat, rescue_orphaned_tasks

logger = logging.getLogger("media_export")


class Command(db_worker.Command):
    help = "Run the export task worker on all queues, recovering tasks of dead workers"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)
        parser.add_argument(
            "--stale-seconds",
            type=float,
            default=STALE_SECONDS,
            help="A worker silent this long is dead; its running task is requeued "
            "(default: %(default)s)",
        )
        parser.add_argument(
            "--heartbeat-seconds",
            type=float,
            default=HEARTBEAT_SECONDS,
            help="How often this worker reports it is alive (default: %(default)s)",
        )

    def handle(self, *, stale_seconds: float, heartbeat_seconds: float, **options) -> None:
        if options.get("reload"):
            logger.warning("--reload is not supported by run_export_worker; ignoring it")
        options["reload"] = False
        heartbeat = Heartbeat(options["worker_id"], heartbeat_seconds, stale_seconds)
        heartbeat.start()
        preencoder = Preencoder()  # the MP4's audio, ahead of the End
        preencoder.start()
        try:
            rescued = rescue_orphaned_tasks(stale_seconds=stale_seconds)
            if rescued:
                self.stdout.write(f"Requeued {len(rescued)} task(s) left running by a dead worker")
            super().handle(**options)
        finally:
            preencoder.stop()
            heartbeat.stop()
