"""The states a live session moves through."""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    """``new → live ⇄ detached → ended | handed_off``.

    ``detached``: the browser went away without ``end``; the session waits for a resume.
    ``handed_off``: another session took the interview over; nothing was ended here.
    """

    NEW = "new"
    LIVE = "live"
    DETACHED = "detached"
    ENDED = "ended"
    HANDED_OFF = "handed_off"

    @property
    def resumable(self) -> bool:
        return self in (SessionState.LIVE, SessionState.DETACHED)

    @property
    def finished(self) -> bool:
        return self in (SessionState.ENDED, SessionState.HANDED_OFF)
