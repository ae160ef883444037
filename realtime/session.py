"""One live interview session: the browser connection, the provider and the audio timeline.

A ``LiveSession`` outlives a single websocket: when the browser drops, the session is
detached and kept for ``SESSION_RESUME_SECONDS``; a ``start`` with the same
``session_id`` re-attaches it (same provider conversation, same ``ai_seq`` numbering).
When the window passes, or on ``end``, or when the interviewer says goodbye, the
session ends exactly once: spool flushed, interview completed, mixing requested.

What the browser's messages mean lives in ``client_input.py``, what provider events mean
in ``provider_events.py``, how a session ends in ``session_ending.py``; how a new ``start``
anywhere supersedes any other live session of the interview lives in ``takeover.py``. A
session resumed in another process, or after a restart, restores its counters from the spool
and seeds a new provider with the transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from interviews.models import Interview
from media_export import storage
from media_export.shipping import SpoolShipper
from media_export.spool import SpoolWriter
from media_export.stored_spool import find_session, has_stored_session

from . import notices, services
from .audio_buffer import AudioBuffer, Truncation
from .client_input import ClientInput
from .clock import ClientClock, InputAudioMap
from .latency import LatencyTracker
from .protocol import CHUNK_MS, CLOSE_PROVIDER_UNAVAILABLE, SAMPLE_RATE
from .provider_events import ProviderEvents
from .providers import SessionSeed, create_provider
from .session_ending import SessionEnding
from .session_state import SessionState
from .takeover import Peer, Takeover, notify_superseded

if TYPE_CHECKING:
    from .providers.base import RealtimeProvider

logger = logging.getLogger("realtime.session")

#: Live sessions of this process, by (interview id, session id).
SESSIONS: dict[tuple[int, str], LiveSession] = {}


class LiveSession(ClientInput, SessionEnding):
    def __init__(self, interview: Interview, session_id: str):
        self.interview_id = interview.pk
        self.session_id = session_id
        self.key = (interview.pk, session_id)
        self.job_title = interview.job.title
        self.instructions = interview.job.interviewer_instructions
        self.questions = [str(q) for q in (interview.job.questions or [])]
        self.candidate_name = interview.candidate.name
        self.peer: Peer | None = None
        self.provider: RealtimeProvider | None = None
        self.buffer: AudioBuffer | None = None
        self.clock = ClientClock()
        self.input_map = InputAudioMap()
        self.latency = LatencyTracker(interview.pk, log_turns=settings.LATENCY_LOGS)
        self.state = SessionState.NEW
        self.events = ProviderEvents(self)
        self.takeover = Takeover(interview.pk, session_id, on_superseded=self.hand_off)
        self._pump_task: asyncio.Task | None = None
        self._expiry_task: asyncio.Task | None = None
        self._finish_task: asyncio.Task | None = None
        self._flush_task: asyncio.Task | None = None
        self.shipper: SpoolShipper | None = None
        self._ship_task: asyncio.Task | None = None
        self._spool_lock = asyncio.Lock()
        self._dropped_mid_reply = False
        self.leaving_cut: Truncation | None = None  # where the page said it stopped, leaving
        # Server wall time at which this session's client clock started (about): no
        # client timestamp can lie further ahead than the time passed since, plus slack.
        # A page reloaded mid-interview goes on with the interview's clock, whose zero is
        # the interview's start, not this session's.
        self.opened_wall = time.time()
        if interview.started_at is not None:
            self.opened_wall = min(self.opened_wall, interview.started_at.timestamp())

    # -- opening ---------------------------------------------------------------
    async def open(self) -> None:
        """Take over the interview from any other session, then start the provider."""
        await self.takeover.announce()
        restore = None
        if await database_sync_to_async(has_stored_session)(self.interview_id, self.session_id):
            # Spooled here or elsewhere, not held by this process: its owner may still write.
            # It ships its spool, then answers the announcement: one writer, an exact resume.
            await self.takeover.wait_released()
            restore = await asyncio.to_thread(_stored_session, self.interview_id, self.session_id)
            if restore is not None and isinstance(restore.opened_at, int | float):
                self.opened_wall = min(self.opened_wall, float(restore.opened_at))
        # fsync never runs on the event loop: the writer only appends (page cache), and
        # the flusher below syncs every SPOOL_FLUSH_SECONDS in a worker thread.
        spool = await asyncio.to_thread(SpoolWriter, self.interview_id, self.session_id, math.inf)
        if not storage.is_local():  # a local media storage already holds the spool folder
            self.shipper = await database_sync_to_async(SpoolShipper)(spool)
        self.buffer = AudioBuffer(spool, restore=restore)
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_spool())
        try:
            await self._start_provider()
        except BaseException:
            self._flush_task.cancel()
            async with self._spool_lock:
                await asyncio.to_thread(self.buffer.close, False)
            await self.takeover.leave()
            raise
        SESSIONS[self.key] = self
        self.state = SessionState.LIVE

    async def _flush_spool(self) -> None:
        """fsync every SPOOL_FLUSH_SECONDS, ship to storage every SPOOL_SHIP_SECONDS."""
        shipped = time.monotonic()
        while True:
            await asyncio.sleep(min(settings.SPOOL_FLUSH_SECONDS, settings.SPOOL_SHIP_SECONDS))
            async with self._spool_lock:
                if self.buffer.spool.closed:
                    return
                await asyncio.to_thread(self.buffer.spool.sync)
            if time.monotonic() - shipped >= settings.SPOOL_SHIP_SECONDS:
                shipped = time.monotonic()
                await self.ship()

    async def ship(self) -> None:
        """Send what is new in the local spool to the media storage (never raises)."""
        if self.shipper is None:
            return
        try:
            await database_sync_to_async(self.shipper.ship, thread_sensitive=False)()
        except Exception:
            logger.exception("Session %s: shipping the spool failed", self.session_id)

    async def _start_provider(self) -> None:
        history = await services.load_history(self.interview_id)
        seed = SessionSeed(
            instructions=self.instructions,
            questions=self.questions,
            candidate_name=self.candidate_name,
            job_title=self.job_title,
            history=history,
        )
        provider = create_provider(history_loader=lambda: services.load_history(self.interview_id))
        self.input_map = InputAudioMap()  # a new provider counts input audio from zero
        await provider.start(seed)
        self.provider = provider
        logger.info(
            "Session %s of interview %s started with provider %s (%d earlier transcript entries)",
            self.session_id,
            self.interview_id,
            provider.name,
            len(history),
        )

    # -- attaching -------------------------------------------------------------
    async def attach(self, peer: Peer) -> None:
        old = self.peer
        self.peer = peer
        if old is not None and old is not peer:
            await notify_superseded(old)
        if self._expiry_task is not None:
            self._expiry_task.cancel()
            self._expiry_task = None
        self.state = SessionState.LIVE
        await self.takeover.announce()
        if self.provider is None or not self.provider.alive:
            try:
                await self._restart_provider()
            except BaseException:
                self.detach(peer)  # keep the session resumable; its window starts now
                raise
        elif self._dropped_mid_reply:
            self._dropped_mid_reply = False
            await self.provider.resume_after_drop()

    async def _restart_provider(self) -> None:
        if self.provider is not None:
            await self.provider.close()
        if self._pump_task is not None:
            self._pump_task.cancel()
        self._dropped_mid_reply = False
        await self._start_provider()
        self.start_pump()

    def start_pump(self) -> None:
        """Start forwarding provider events; only once a browser is attached and ready."""
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(self.provider))

    def detach(self, peer: Peer) -> None:
        """The browser went away without ``end``: keep the session for a resume."""
        if self.peer is not peer:
            return
        self.peer = None
        if self.state != SessionState.LIVE:
            return
        self.state = SessionState.DETACHED
        cut, self.leaving_cut = self.leaving_cut, None
        now_t = self.clock.now()
        playing = self.buffer is not None and (
            cut is not None or now_t < self.buffer.playback_end()
        )
        if playing and self.provider is not None:
            # The reply was still playing: stop it and keep the model's context to what was
            # heard, where the page said it stopped or else where the server estimates.
            self._dropped_mid_reply = True
            asyncio.get_running_loop().create_task(self._cut_reply(cut, now_t))
        self._ship_task = asyncio.get_running_loop().create_task(self.ship())  # may move nodes
        window = settings.SESSION_RESUME_SECONDS
        logger.info(
            "Session %s of interview %s detached; resumable for %ss",
            self.session_id,
            self.interview_id,
            window,
        )
        self._expiry_task = asyncio.get_running_loop().create_task(self._expire(window))

    async def _cut_reply(self, cut: Truncation | None, now_t: float) -> None:
        if cut is None:
            cut = self.buffer.cut_at(now_t)
        await self.provider.cancel_response()
        if cut is not None:
            self.events.remember_cut(cut.item_id, cut.cut_t)
            await self.provider.truncate(cut.item_id, cut.audio_end_ms)

    async def _expire(self, window: float) -> None:
        await asyncio.sleep(window)
        self._expiry_task = None
        logger.info(
            "Session %s of interview %s: resume window passed", self.session_id, self.interview_id
        )
        await self.end(Interview.EndReason.ABANDONED)

    # -- provider events -------------------------------------------------------
    async def _pump(self, provider: RealtimeProvider) -> None:
        try:
            async for event in provider.events():
                try:
                    await self.events.handle(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception(
                        "Session %s: failed to handle %s", self.session_id, event.get("type")
                    )
        except asyncio.CancelledError:
            pass

    async def provider_failed(self, message: str) -> None:
        """The provider gave up: tell the browser and keep the session for a reconnect."""
        logger.error("Session %s: %s", self.session_id, message)
        await self.send(notices.notice(notices.UNAVAILABLE))
        peer = self.peer
        if peer is not None:
            self.detach(peer)  # keep the session: a reconnect starts a new provider, seeded
            with contextlib.suppress(Exception):
                await peer.close(code=CLOSE_PROVIDER_UNAVAILABLE)

    def forget(self) -> None:
        """This process no longer holds the session: a ``start`` with its id opens anew."""
        if SESSIONS.get(self.key) is self:
            SESSIONS.pop(self.key, None)

    # -- output ----------------------------------------------------------------
    async def send(self, message: dict) -> None:
        peer = self.peer
        if peer is None:
            return
        try:
            await peer.send_json(message)
        except Exception:
            logger.debug("Session %s: send failed", self.session_id, exc_info=True)

    async def send_error(self, code: str, message: str) -> None:
        await self.send({"event": "error", "code": code, "message": message})

    def ready_message(self) -> dict:
        return {
            "event": "session_ready",
            "session_id": self.session_id,
            "interview_id": self.interview_id,
            "sample_rate": SAMPLE_RATE,
            "chunk_ms": CHUNK_MS,
            "resume_from_seq": self.buffer.resume_from_seq,
        }


def _stored_session(interview_id: int, session_id: str):
    """A session's spool joined across nodes, read off the event loop and off the shared
    database thread (it may download segments); the thread's connection is closed after."""
    try:
        return find_session(interview_id, session_id, strict=False)
    finally:
        connections.close_all()


async def start_session(interview: Interview, session_id: str, peer: Peer) -> LiveSession:
    """Resume the session with this id if this process holds it, else open a new one."""
    session = SESSIONS.get((interview.pk, session_id))
    if session is not None and session.state.resumable:
        await peer.send_json(session.ready_message())
        await session.attach(peer)
        logger.info("Session %s of interview %s resumed", session_id, interview.pk)
        return session
    session = LiveSession(interview, session_id)
    await session.open()
    await peer.send_json(session.ready_message())
    session.peer = peer
    session.start_pump()
    return session
