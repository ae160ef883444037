"""Cross-process takeover: one live session per interview, wherever it runs.

Sessions of one interview meet in the channel-layer group ``interview.<id>``. Every
``start`` announces itself there; any other session of the interview, in this process
or another one sharing Redis, is told to step aside (``session.supersede``) and, when it
held the same ``session_id``, answers ``session.released`` once its spool is closed, so
two processes never append to one spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from channels.layers import get_channel_layer

from .protocol import CLOSE_SUPERSEDED

logger = logging.getLogger("realtime.session")

#: How long a resume waits for another process to release the same session's spool.
RELEASE_WAIT_SECONDS = 3.0


class Peer(Protocol):
    """What a session needs from the websocket consumer attached to it."""

    async def send_json(self, content: dict, close: bool = False) -> None: ...
    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


def group_name(interview_id: int) -> str:
    return f"interview.{int(interview_id)}"


class Takeover:
    """One session's seat in its interview's group."""

    def __init__(
        self, interview_id: int, session_id: str, on_superseded: Callable[[], Awaitable[None]]
    ):
        self.interview_id = interview_id
        self.session_id = session_id
        self.channel: str | None = None
        self._on_superseded = on_superseded
        self._listen_task: asyncio.Task | None = None
        self._released = asyncio.Event()

    async def announce(self) -> None:
        """Tell every other session of the interview to step aside, then join the group."""
        layer = get_channel_layer()
        if layer is None:
            return
        if self.channel is None:
            self.channel = await layer.new_channel()
            self._listen_task = asyncio.get_running_loop().create_task(self._listen(layer))
        await layer.group_send(
            group_name(self.interview_id),
            {"type": "session.supersede", "session_id": self.session_id, "origin": self.channel},
        )
        await layer.group_add(group_name(self.interview_id), self.channel)

    async def wait_released(self, timeout: float = RELEASE_WAIT_SECONDS) -> None:
        """Give another owner of this session id a moment to close its spool."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), timeout)

    async def _listen(self, layer) -> None:
        while True:
            message = await layer.receive(self.channel)
            kind = message.get("type")
            if kind == "session.released" and message.get("session_id") == self.session_id:
                self._released.set()
            elif kind == "session.supersede" and message.get("origin") != self.channel:
                logger.info(
                    "Session %s of interview %s superseded by session %s",
                    self.session_id,
                    self.interview_id,
                    message.get("session_id"),
                )
                await self._on_superseded()
                if message.get("session_id") == self.session_id:
                    with contextlib.suppress(Exception):
                        await layer.send(
                            message["origin"],
                            {"type": "session.released", "session_id": self.session_id},
                        )
                return

    async def leave(self) -> None:
        layer = get_channel_layer()
        if self._listen_task is not None and self._listen_task is not asyncio.current_task():
            self._listen_task.cancel()
        if layer is not None and self.channel is not None:
            with contextlib.suppress(Exception):
                await layer.group_discard(group_name(self.interview_id), self.channel)


async def notify_superseded(peer: Peer) -> None:
    """Close a socket whose interview was opened elsewhere (4000)."""
    with contextlib.suppress(Exception):
        await peer.send_json(
            {
                "event": "error",
                "code": "superseded",
                "message": "This interview was opened in another connection.",
            }
        )
        await peer.close(code=CLOSE_SUPERSEDED)
    detached = getattr(peer, "session_superseded", None)
    if detached is not None:
        detached()
