"""OpenAI Realtime (GA) through the official SDK's websocket connection.

The SDK opens ``<ws base>/realtime?model=…`` with the bearer key. Each upstream session
is configured first (``session.update``, then we wait for ``session.updated``: a refused
configuration is final), then seeded with the transcript so far as items whose ids we
choose, so their ``conversation.item.added``/``done`` echoes are recognised and dropped.
Responses are requested one at a time; a request made while one runs waits for its
``response.done``. Server events otherwise pass through unchanged.

When the socket drops we reconnect with backoff within a budget of attempts per time
window; errors that retrying cannot fix (key, quota, model: ``openai_errors.py``) stop it
at once. Before the 60-minute cap, at the end of a reply, the connection is recycled: a
fresh session, seeded the same way, which the candidate does not notice (both in
``openai_renewal.py``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from .base import HistoryEntry, RealtimeProvider, SessionSeed
from .openai_config import (
    DEFAULT_MODEL,
    PREFIX_PADDING_MS,
    RESEEDED_NOTE,
    RESUME_NOTE,
    TurnDetection,
    calls_end_tool,
    session_config,
)
from .openai_errors import (
    ACTIVE_RESPONSE,
    SESSION_EXPIRED,
    is_benign,
    is_final,
    log_exhausted_limits,
)
from .openai_errors import staff_reason as error_reason
from .openai_handshake import open_session
from .openai_renewal import UpstreamRenewal

logger = logging.getLogger("realtime.providers.openai")

ECHOES = ("conversation.item.added", "conversation.item.done")


class OpenAIRealtimeProvider(UpstreamRenewal, RealtimeProvider):
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        voice: str = "marin",
        transcription_model: str = "gpt-4o-mini-transcribe",
        turn_detection: str = "semantic_vad",
        eagerness: str = "low",
        silence_duration_ms: int = 500,
        reconnect_budget: int = 4,
        reconnect_window: float = 60.0,
        initial_backoff: float = 0.5,
        max_backoff: float = 8.0,
        recycle_after_seconds: float = 50 * 60,
        handshake_timeout: float = 10.0,
        history_loader: Callable[[], Awaitable[list[HistoryEntry]]] | None = None,
        max_pending_audio_ms: int = 5000,
    ):
        super().__init__()
        self.api_key = api_key
        self.model = model
        self.base_url = base_url
        self.voice = voice
        self.transcription_model = transcription_model
        self.turns = TurnDetection(turn_detection, eagerness, silence_duration_ms)
        self.turn_silence_ms = self.turns.silence_before_stop_ms
        self.reconnect_budget = reconnect_budget
        self.reconnect_window = reconnect_window
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.recycle_after_seconds = recycle_after_seconds
        self.handshake_timeout = handshake_timeout
        self.history_loader = history_loader
        self._seed = SessionSeed()
        self._client = None
        self._conn = None
        self._reader: asyncio.Task | None = None
        self._dead = False
        self._reconnecting = False
        self._failure = ""  # set by a final error: why the provider stopped, for staff
        self._attempts: deque[float] = deque()  # reconnect attempts inside the window
        self._opened_at = 0.0
        self._own_items: set[str] = set()  # ids of the items we seeded: their echoes are ours
        self._assistant_items: set[str] = set()  # items this upstream session can truncate
        self._pending_transcripts: set[str] = set()
        self._response_active = False
        self._wanted: dict | None = None  # a response to request when the active one is done
        self._last_request: dict = {}
        self._retried = False
        self._pending_audio: deque[bytes] = deque(maxlen=max(1, max_pending_audio_ms // 100))
        # Input audio ms handed to us in total, and where the current upstream session's
        # audio began: speech events are rewritten onto one continuous input clock.
        self._handed_ms = 0.0
        self._base_ms = 0.0

    @property
    def alive(self) -> bool:
        return not self.closed and not self._dead

    @property
    def failure(self) -> str:
        return self._failure

    # -- lifecycle -------------------------------------------------------------
    async def start(self, seed: SessionSeed) -> None:
        from openai import AsyncOpenAI

        self._seed = seed
        self._client = AsyncOpenAI(
            api_key=self.api_key or "missing-key", base_url=self.base_url, max_retries=0
        )
        await self._open(seed.history)
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        if self.closed:
            return
        await super().close()
        if self._reader is not None:
            self._reader.cancel()
        await self._close_conn(self._conn)

    @staticmethod
    async def _close_conn(conn) -> None:
        if conn is None:
            return
        try:
            await conn.close()
        except Exception:  # already gone
            logger.debug("OpenAI Realtime close failed", exc_info=True)

    def session_config(self, resumed: bool = False) -> dict:
        instructions = self._seed.full_instructions()
        if resumed:
            instructions += "\n\n" + RESEEDED_NOTE
        return session_config(
            instructions,
            voice=self.voice,
            transcription_model=self.transcription_model,
            turns=self.turns,
        )

    async def _open(self, history: list[HistoryEntry]) -> None:
        """Connect, configure, seed; the new connection replaces the old one only when ready."""
        config = self.session_config(resumed=bool(history))
        opened = await open_session(
            self._client, self.model, config, history, self.handshake_timeout
        )
        self._conn, self._opened_at = opened.conn, time.monotonic()
        self._own_items, self._assistant_items = opened.own_items, set()
        self._pending_transcripts = set()
        self._response_active, self._last_request = opened.replying, {}

    async def _history(self) -> list[HistoryEntry]:
        await self.wait_handled(timeout=2.0)  # the session has stored what we passed on
        return list(await self.history_loader() if self.history_loader else self._seed.history)

    # -- input -----------------------------------------------------------------
    async def append_audio(self, pcm: bytes) -> None:
        if not self.alive:
            return
        self._handed_ms += len(pcm) / 48.0
        await self._forward(pcm)

    async def _forward(self, pcm: bytes) -> None:
        if self._reconnecting or self._conn is None:
            self._pending_audio.append(pcm)
            return
        try:
            await self._conn.input_audio_buffer.append(audio=base64.b64encode(pcm).decode("ascii"))
        except Exception:
            self._pending_audio.append(pcm)  # the reader notices the drop and reconnects

    async def _flush_pending_audio(self) -> None:
        pending = list(self._pending_audio)
        self._pending_audio.clear()
        self._base_ms = self._handed_ms - sum(len(p) for p in pending) / 48.0
        self._reconnecting = False
        for pcm in pending:
            await self._forward(pcm)
        if self._wanted is not None and not self._response_active:
            wanted, self._wanted = self._wanted, None
            await self._request_response(wanted)

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        if item_id not in self._assistant_items:
            return  # an item of an earlier upstream session: nothing left to cut there
        await self._send(
            lambda c: c.conversation.item.truncate(
                item_id=item_id, content_index=0, audio_end_ms=int(audio_end_ms)
            )
        )

    async def settle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._pending_transcripts and self.alive and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def cancel_response(self) -> None:
        self._wanted = None
        if self._response_active:
            await self._send(lambda c: c.response.cancel())

    async def resume_after_drop(self) -> None:
        note = self._seed.full_instructions() + "\n\n" + RESUME_NOTE
        await self._request_response({"instructions": note})

    async def _request_response(self, params: dict | None = None) -> None:
        """One response at a time: a request made while one runs waits for its end."""
        params = params or {}
        if self._response_active or self._reconnecting:
            self._wanted = params
            return
        self._response_active, self._last_request = True, params
        await self._send(
            lambda c: c.response.create(response=params) if params else c.response.create()
        )

    async def _send(self, action) -> None:
        if not self.alive or self._reconnecting or self._conn is None:
            return
        try:
            await action(self._conn)
        except Exception as exc:
            logger.warning("OpenAI Realtime send failed: %s", exc)

    # -- output ----------------------------------------------------------------
    async def _read_loop(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while not self.closed:
            try:
                raw = await self._conn.recv_bytes()
            except ConnectionClosed as exc:
                if self.closed or not await self._after_close(exc):
                    return
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                logger.warning("OpenAI Realtime sent a frame that is not JSON (%d bytes)", len(raw))
                continue
            if isinstance(event, dict):
                await self._on_event(event)

    async def _on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind in ECHOES and (event.get("item") or {}).get("id") in self._own_items:
            return  # our own seeded history coming back
        if kind == "error" and self._swallow(event.get("error") or {}):
            if self._failure:
                await self._close_conn(self._conn)  # the reader sees the close and stops
            return
        self._observe(event)
        self.emit(event)
        if kind == "response.done":
            await self._on_response_done(event)
        if kind in ("response.done", *TRANSCRIPTION_ENDS):
            await self._maybe_recycle()

    def _swallow(self, error: dict) -> bool:
        """Handle an upstream error here; True when the session need not hear of it."""
        code = error.get("code")
        if is_final(error):
            self._failure = error_reason(error)
            logger.error("OpenAI Realtime final error %s: %s", code, error.get("message"))
            return True
        if code == ACTIVE_RESPONSE:
            self._wanted = self._wanted if self._wanted is not None else self._last_request
            logger.debug("OpenAI Realtime: response.create during a response; queued")
            return True
        if is_benign(error) or code == SESSION_EXPIRED:
            logger.info("OpenAI Realtime %s: %s", code, error.get("message"))
            return True  # a late cancel or truncate; or the cap, followed by a reconnect
        logger.warning(
            "OpenAI Realtime error %s (%s): %s", code, error.get("type"), error.get("message")
        )
        return False

    def _observe(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "input_audio_buffer.speech_started" and "audio_start_ms" in event:
            # Where the speech itself began: the server's start includes the prefix padding.
            start = event["audio_start_ms"] + PREFIX_PADDING_MS + self._base_ms
            event["audio_start_ms"] = int(start)
        elif kind == "input_audio_buffer.speech_stopped" and "audio_end_ms" in event:
            event["audio_end_ms"] = int(event["audio_end_ms"] + self._base_ms)
        elif kind == "input_audio_buffer.committed":
            self._pending_transcripts.add(str(event.get("item_id")))
        elif kind in TRANSCRIPTION_ENDS:
            self._pending_transcripts.discard(str(event.get("item_id")))
        elif kind == "response.created":
            self._response_active = True
        elif kind == "conversation.item.added":
            item = event.get("item") or {}
            if item.get("role") == "assistant":
                self._assistant_items.add(str(item.get("id")))
        elif kind == "rate_limits.updated":
            log_exhausted_limits(event)

    async def _on_response_done(self, event: dict) -> None:
        self._response_active = False
        if calls_end_tool(event):
            self.emit({"type": "provider.interview_complete"})
        response = event.get("response") or {}
        status = response.get("status")
        if status in ("failed", "incomplete"):
            details = response.get("status_details") or {}
            error = details.get("error") or {}
            reason = error.get("code") or details.get("reason") or status
            retry = status == "failed" and not self._retried and not is_final(error)
            logger.warning(
                "OpenAI Realtime response %s %s (%s)%s",
                response.get("id"),
                status,
                reason,
                "; retrying once" if retry else "",
            )
            if retry:
                self._retried = True
                self._wanted = self._last_request
            else:
                self.emit({"type": "provider.response_failed", "reason": str(reason)})
        elif status == "completed":
            self._retried = False
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            await self._request_response(wanted)


TRANSCRIPTION_ENDS = (
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
)
