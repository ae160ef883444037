"""The /ws/session websocket: validates frames and hands them to the ``LiveSession``.

Kept thin on purpose: protocol parsing lives in ``protocol.py``, the session's
behaviour in ``session.py``, database writes in ``services.py``.
"""

from __future__ import annotations

import logging
import time

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from interviews.invitations import InvalidInvitation, ainterview_for_token, token_matches
from interviews.models import Interview
from interviewsite.memory import freeze_loaded_objects

from . import notices, protocol, services
from .metrics import metrics
from .protocol import (
    AiChunkPlayed,
    End,
    MicChunk,
    PlaybackInterrupted,
    ProtocolError,
    RecordingStarted,
    Start,
)
from .providers.base import ProviderRefused
from .session import LiveSession, start_session

logger = logging.getLogger("realtime.consumers")

EndReason = Interview.EndReason

_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process, at the first websocket: freeze what was loaded since ``asgi.py`` froze
    at startup (lazy imports of the first requests), or everything when the consumer runs
    without ``asgi.py`` (tests drive it through their own application)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        freeze_loaded_objects()


KNOWN_EVENTS = {
    "start",
    "mic_chunk",
    "ai_chunk_played",
    "ai_playback_interrupted",
    "recording_started",
    "end",
}


class SessionConsumer(AsyncJsonWebsocketConsumer):
    session: LiveSession | None = None

    async def connect(self) -> None:
        self.session = None
        self._starting = False
        self._metrics = metrics()
        self._metrics.ensure_started()
        _freeze_startup_objects()
        await self.accept()

    async def disconnect(self, code) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.detach(self)

    def session_superseded(self) -> None:
        self.session = None

    async def receive(self, text_data=None, bytes_data=None) -> None:
        began = time.perf_counter()
        try:
            data = protocol.decode_frame(text_data, bytes_data)
            event = protocol.event_name(data)
            if self.session is None and event in KNOWN_EVENTS and event != "start":
                raise ProtocolError("not_started", "Send a valid 'start' first.")
            message = protocol.parse_message(data)
            await self._dispatch(message)
        except ProtocolError as exc:
            await self.send_error(exc.code, exc.message)
            if exc.code == "frame_too_large":
                # Nothing of it was used; closing says so in a code the client acts on
                # (it reconnects and resends from resume_from_seq).
                await self.close(code=protocol.CLOSE_TOO_BIG)
            return
        except Exception:
            # A bug or an outage (database, disk) must not kill the interview's socket.
            logger.exception(
                "Session %s: failed to handle a frame", getattr(self.session, "session_id", None)
            )
            await self.send_error("internal_error", "The server could not process that message.")
            return
        if self._metrics.enabled and type(message) is MicChunk:
            self._metrics.mic.add(time.perf_counter() - began)

    async def _dispatch(self, message) -> None:
        session = self.session
        if session is not None and session.state.finished and not isinstance(message, Start):
            return  # handed off or ended a moment ago: its notice to this browser is on the way
        if isinstance(message, MicChunk):
            await session.on_mic(message.seq, message.timestamp, message.pcm)
        elif isinstance(message, AiChunkPlayed):
            await session.on_ai_played(message.seq, message.timestamp)
        elif isinstance(message, PlaybackInterrupted):
            await session.on_interrupted(message.seq, message.played_ms, leaving=message.leaving)
        elif isinstance(message, RecordingStarted):
            session.on_recording_started(message.timestamp, message.segment)
        elif isinstance(message, End):
            self.session = None
            await session.end(EndReason.CANDIDATE_ENDED)
        elif isinstance(message, Start):
            if session is not None or self._starting:
                raise ProtocolError("already_started", "This connection already started a session.")
            await self._start(message)

    async def _start(self, message: Start) -> None:
        try:
            if not token_matches(message.token, message.interview_id):
                raise InvalidInvitation
            interview = await ainterview_for_token(message.token)
        except InvalidInvitation:
            await self._refuse(
                "unauthorized",
                "The invitation is not valid for this interview.",
                protocol.CLOSE_UNAUTHORIZED,
            )
            return
        if interview.is_finished:
            await self._refuse(
                "interview_finished",
                "This interview has already finished.",
                protocol.CLOSE_FINISHED,
            )
            return
        self._starting = True
        try:
            await services.start_interview(interview_id=interview.pk)
            try:
                self.session = await start_session(interview, message.session_id, self)
            except ProviderRefused as exc:
                # Retrying cannot help (key, quota, configuration): staff read why.
                logger.error("Interview %s failed: %s", interview.pk, exc.reason)
                await services.fail_interview(
                    interview_id=interview.pk,
                    reason=exc.reason,
                    end_reason=EndReason.PROVIDER_FAILED,
                )
                await self.send_json(notices.notice(notices.UNAVAILABLE))
                await self.close(code=protocol.CLOSE_NORMAL)
            except Exception:
                logger.exception("Interview %s: the AI provider could not start", interview.pk)
                await self.send_json(notices.notice(notices.UNAVAILABLE))
                await self.close(code=protocol.CLOSE_PROVIDER_UNAVAILABLE)
        finally:
            self._starting = False

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        await self.send_error(code, message)
        await self.close(code=close_code)

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"event": "error", "code": code, "message": message})
