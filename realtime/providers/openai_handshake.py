"""Opening one upstream OpenAI Realtime session: configure, wait for the answer, seed.

Nothing is asked of the model before ``session.updated``: a refused configuration would
otherwise leave it on defaults (no questions, no transcription, no end tool). The
history goes in as items whose ids we choose, so their echoes can be told apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass

from .base import HistoryEntry
from .openai_errors import UpstreamRefused, is_final, staff_reason

logger = logging.getLogger("realtime.providers.openai")


@dataclass
class Opened:
    conn: object
    own_items: set[str]  # ids of the seeded items: their echoes are ours
    replying: bool  # a response.create was sent


async def open_session(
    client, model: str, config: dict, history: list[HistoryEntry], timeout: float
) -> Opened:
    from websockets.exceptions import ConnectionClosed

    conn = await client.realtime.connect(model=model).enter()
    try:
        # Closed at once (a quota error): what it said before closing is read below.
        with contextlib.suppress(ConnectionClosed):
            await conn.session.update(session=config)
        await asyncio.wait_for(_configured(conn), timeout)
        own = set()
        for entry in history:
            item_id = f"seed_{uuid.uuid4().hex[:24]}"
            own.add(item_id)
            role = "user" if entry.role == "candidate" else "assistant"
            kind = "input_text" if role == "user" else "output_text"
            await conn.conversation.item.create(
                item={
                    "id": item_id,
                    "type": "message",
                    "role": role,
                    "content": [{"type": kind, "text": entry.text}],
                }
            )
        replying = not history or history[-1].role == "candidate"
        if replying:  # greet, or answer the turn the drop interrupted
            await conn.response.create()
    except BaseException:
        with contextlib.suppress(Exception):
            await conn.close()
        raise
    return Opened(conn, own, replying)


async def _configured(conn) -> None:
    """Wait for ``session.updated``; a refusal or a final error raises ``UpstreamRefused``."""
    while True:
        event = json.loads(await conn.recv_bytes())
        kind = event.get("type")
        if kind == "session.updated":
            return
        if kind == "error":
            error = event.get("error") or {}
            logger.warning(
                "OpenAI Realtime error %s during the handshake: %s",
                error.get("code"),
                error.get("message"),
            )
            if is_final(error) or str(error.get("param") or "").startswith("session"):
                raise UpstreamRefused(staff_reason(error, "configuring the session"))
