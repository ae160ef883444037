"""Entry points of the recording pipeline that other apps call."""

from __future__ import annotations

import logging

logger = logging.getLogger("media_export")


def request_mixing(interview_id: int, session_id: str | None = None) -> None:
    """Ask for the interview's audio to be mixed; called by realtime when a session ends."""
    logger.info("Mixing requested for interview %s (session %s)", interview_id, session_id)
