"""One live interview session: the browser connection, the provider and the audio timeline.

A ``LiveSession`` outlives a single websocket: when the browser drops, the session is
detached and kept for ``SESSION_RESUME_SECONDS``; a ``start`` with the same
``session_id`` re-attaches it (same provider conversation, same ``ai_seq`` numbering).
When the window passes, or on ``end``, or when the interviewer says goodbye, the
session ends exactly once: spool flushed, interview completed, mixing requested.

Sessions of one interview find each other through the channel layer group
``interview.<id>``: a new ``start`` anywhere supersedes any other live session of the
same interview (its socket closes with 4000, its provider is released without
ending the interview). A session resumed in another process, or after a restart,
restores its counters from the spool and seeds a new provider with the transcript.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import math
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from interviews.models import Interview, TranscriptEntry
from media_export import services as media_services
from media_export.spool import SpoolWriter, interview_spool_dir, read_session, session_dir_name

from . import services
from .audio_buffer import AudioBuffer, UnknownSeq
from .clock import ClientClock, InputAudioMap
from .latency import LatencyTracker
from .protocol import (
    CHUNK_MS,
    CLOSE_NORMAL,
    CLOSE_PROVIDER_UNAVAILABLE,
    CLOSE_SUPERSEDED,
    SAMPLE_RATE,
    ProtocolError,
)
from .providers import SessionSeed, create_provider

if TYPE_CHECKING:
    from .providers.base import RealtimeProvider

logger = logging.getLogger("realtime.session")

ROLE_CANDIDATE = TranscriptEntry.Role.CANDIDATE.value
ROLE_INTERVIEWER = TranscriptEntry.Role.INTERVIEWER.value


class Peer(Protocol):
    """What a session needs from the websocket consumer attached to it."""

    async def send_json(self, content: dict, close: bool = False) -> None: ...
    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


#: How long a resume waits for another process to release the same session's spool.
RELEASE_WAIT_SECONDS = 1.0

#: Live sessions of this process, by (interview id, session id).
SESSIONS: dict[tuple[int, str], LiveSession] = {}


def group_name(interview_id: int) -> str:
    return f"interview.{int(interview_id)}"


def provider_error_code(error: dict) -> str:
    code = str(error.get("code") or "")
    kind = str(error.get("type") or "")
    if "rate_limit" in code or "rate_limit" in kind:
        return "rate_limited"
    return "provider_error"


class LiveSession:
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
        self.state = "new"  # new → live ⇄ detached → ended | handed_off
        self.channel: str | None = None
        self._pump_task: asyncio.Task | None = None
        self._expiry_task: asyncio.Task | None = None
        self._finish_task: asyncio.Task | None = None
        self._listen_task: asyncio.Task | None = None
        self._flush_task: asyncio.Task | None = None
        self._spool_lock = asyncio.Lock()
        self._released = asyncio.Event()
        self._speech: OrderedDict[str, list] = OrderedDict()  # user item → [start_t, end_t]
        self._cut: OrderedDict[str, float] = OrderedDict()  # AI item → client time of the cut
        self._dropped_mid_reply = False
        self.dropped_ai_chunks = 0

    # -- opening ---------------------------------------------------------------
    async def open(self) -> None:
        """Take over the interview from any other session, then start the provider."""
        await self._announce()
        directory = interview_spool_dir(self.interview_id) / session_dir_name(self.session_id)
        restore = None
        if (directory / "index.jsonl").exists():
            # This session_id has a spool but this process does not hold it: another
            # process may still be writing to it. Give its owner a moment to release it
            # (it answers the announcement), so two writers never append at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), RELEASE_WAIT_SECONDS)
            restore = await asyncio.to_thread(read_session, directory)
        # fsync never runs on the event loop: the writer only appends (page cache), and
        # the flusher below syncs every SPOOL_FLUSH_SECONDS in a worker thread.
        spool = await asyncio.to_thread(SpoolWriter, self.interview_id, self.session_id, math.inf)
        self.buffer = AudioBuffer(spool, restore=restore)
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_spool())
        try:
            await self._start_provider()
        except BaseException:
            self._flush_task.cancel()
            async with self._spool_lock:
                await asyncio.to_thread(self.buffer.close, False)
            await self._leave_group()
            raise
        SESSIONS[self.key] = self
        self.state = "live"

    async def _flush_spool(self) -> None:
        while True:
            await asyncio.sleep(settings.SPOOL_FLUSH_SECONDS)
            async with self._spool_lock:
                if self.buffer.spool.closed:
                    return
                await asyncio.to_thread(self.buffer.spool.sync)

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

    async def _announce(self) -> None:
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
                await self.hand_off()
                if message.get("session_id") == self.session_id:
                    with contextlib.suppress(Exception):
                        await layer.send(
                            message["origin"],
                            {"type": "session.released", "session_id": self.session_id},
                        )
                return

    async def _leave_group(self) -> None:
        layer = get_channel_layer()
        if self._listen_task is not None and self._listen_task is not asyncio.current_task():
            self._listen_task.cancel()
        if layer is not None and self.channel is not None:
            with contextlib.suppress(Exception):
                await layer.group_discard(group_name(self.interview_id), self.channel)

    # -- attaching -------------------------------------------------------------
    async def attach(self, peer: Peer) -> None:
        old = self.peer
        self.peer = peer
        if old is not None and old is not peer:
            await _superseded(old)
        if self._expiry_task is not None:
            self._expiry_task.cancel()
            self._expiry_task = None
        self.state = "live"
        await self._announce()
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
        if self.state != "live":
            return
        self.state = "detached"
        now_t = self.clock.now()
        if (
            self.buffer is not None
            and self.provider is not None
            and now_t < self.buffer.playback_end()
        ):
            # The reply was still playing: stop it and keep the model's context to what was heard.
            self._dropped_mid_reply = True
            asyncio.get_running_loop().create_task(self._cut_reply_at(now_t))
        window = settings.SESSION_RESUME_SECONDS
        logger.info(
            "Session %s of interview %s detached; resumable for %ss",
            self.session_id,
            self.interview_id,
            window,
        )
        self._expiry_task = asyncio.get_running_loop().create_task(self._expire(window))

    async def _cut_reply_at(self, now_t: float) -> None:
        cut = self.buffer.cut_at(now_t)
        await self.provider.cancel_response()
        if cut is not None:
            self._remember_cut(cut.item_id, cut.cut_t)
            await self.provider.truncate(cut.item_id, cut.audio_end_ms)

    async def _expire(self, window: float) -> None:
        await asyncio.sleep(window)
        self._expiry_task = None
        logger.info(
            "Session %s of interview %s: resume window passed", self.session_id, self.interview_id
        )
        await self.end(Interview.EndReason.ABANDONED)

    # -- client messages -------------------------------------------------------
    async def on_mic(self, seq: int, timestamp: float, pcm: bytes) -> None:
        now = time.monotonic()
        if not self.buffer.add_mic_chunk(seq, timestamp, pcm):
            return  # duplicate (e.g. resent after a reconnect): already stored and forwarded
        duration_ms = len(pcm) / (SAMPLE_RATE * 2 / 1000)
        self.clock.observe(timestamp + duration_ms / 1000, now)
        self.input_map.add(timestamp, duration_ms)
        if self.provider is not None:
            await self.provider.append_audio(pcm)

    async def on_ai_played(self, seq: int, timestamp: float) -> None:
        try:
            fresh = self.buffer.update_ai_timestamp(seq, timestamp)
        except UnknownSeq:
            raise ProtocolError("unknown_seq", f"No AI chunk with seq {seq} was sent.") from None
        if not fresh:
            return
        figures = self.latency.ai_played(seq, timestamp)
        if figures is not None:
            self.buffer.event(
                "turn_latency", timestamp, **{k: v for k, v in figures.items() if v is not None}
            )
            await services.save_latency(self.interview_id, self.latency.summary())

    async def on_interrupted(self, seq: int, played_ms: float) -> None:
        try:
            cut = self.buffer.truncate_ai(seq, played_ms)
        except UnknownSeq:
            raise ProtocolError("unknown_seq", f"No AI chunk with seq {seq} was sent.") from None
        if cut is None:
            return
        self.buffer.event("barge_in", cut.cut_t, item_id=cut.item_id, audio_end_ms=cut.audio_end_ms)
        self._remember_cut(cut.item_id, cut.cut_t)
        if self.provider is not None:
            await self.provider.truncate(cut.item_id, cut.audio_end_ms)

    def on_recording_started(self, timestamp: float) -> None:
        self.buffer.recording_started(timestamp)

    # -- provider events -------------------------------------------------------
    async def _pump(self, provider: RealtimeProvider) -> None:
        try:
            async for event in provider.events():
                try:
                    await self._handle(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception(
                        "Session %s: failed to handle %s", self.session_id, event.get("type")
                    )
        except asyncio.CancelledError:
            pass

    async def _handle(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            await self._on_audio(event)
        elif kind == "input_audio_buffer.speech_started":
            await self._on_speech_started(event)
        elif kind == "input_audio_buffer.speech_stopped":
            self._on_speech_stopped(event)
        elif kind == "response.created":
            response = event.get("response") or {}
            self.buffer.event("response_started", self.clock.now(), response_id=response.get("id"))
        elif kind == "response.done":
            response = event.get("response") or {}
            self.buffer.event(
                "response_done",
                self.clock.now(),
                response_id=response.get("id"),
                status=response.get("status"),
            )
        elif kind == "conversation.item.done":
            await self._on_item_done(event.get("item") or {})
        elif kind == "conversation.item.input_audio_transcription.completed":
            await self._save_candidate(str(event.get("item_id") or ""), event.get("transcript"))
        elif kind == "conversation.item.input_audio_transcription.failed":
            logger.warning(
                "Session %s: transcription failed for %s", self.session_id, event.get("item_id")
            )
        elif kind == "conversation.item.truncated":
            await self._on_truncated(event)
        elif kind == "error":
            error = event.get("error") or {}
            await self.send_error(
                provider_error_code(error), str(error.get("message") or "AI provider error")
            )
        elif kind == "provider.disconnected":
            await self.send_error("provider_disconnected", str(event.get("message") or ""))
        elif kind == "provider.failed":
            await self._provider_failed(str(event.get("message") or ""))
        elif kind == "provider.interview_complete" and self._finish_task is None:
            self._finish_task = asyncio.get_running_loop().create_task(
                self._finish_after_playback()
            )

    async def _on_audio(self, event: dict) -> None:
        delta = event.get("delta")
        try:
            pcm = base64.b64decode(delta or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            logger.warning("Session %s: provider sent undecodable audio", self.session_id)
            return
        if not pcm or len(pcm) % 2:
            return
        if self.peer is None:
            self.dropped_ai_chunks += 1  # nobody can hear it: not part of the timeline
            return
        now = time.monotonic()
        received_t = self.clock.to_client(now)
        seq = self.buffer.add_ai_chunk(
            pcm, str(event.get("item_id") or ""), str(event.get("response_id") or ""), received_t
        )
        self.latency.ai_audio(seq, now, received_t)
        await self.send({"event": "tts_chunk", "seq": seq, "audio_b64": delta})

    async def _on_speech_started(self, event: dict) -> None:
        item_id = str(event.get("item_id") or "")
        start_t = self.input_map.to_client(float(event.get("audio_start_ms") or 0))
        self._remember(self._speech, item_id, [start_t, None])
        self.latency.speech_started()
        self.buffer.event("speech_started", start_t, item_id=item_id)
        now_t = self.clock.now()
        if now_t < self.buffer.playback_end():
            self.buffer.event("playback_stop", now_t, item_id=item_id)
            await self.send({"event": "playback_stop"})

    def _on_speech_stopped(self, event: dict) -> None:
        item_id = str(event.get("item_id") or "")
        end_t = self.input_map.to_client(float(event.get("audio_end_ms") or 0))
        speech_end = None
        if end_t is not None:
            speech_end = max(0.0, end_t - self.provider.turn_silence_ms / 1000)
        span = self._speech.get(item_id)
        if span is not None:
            span[1] = speech_end
        self.buffer.event("speech_stopped", end_t, item_id=item_id, speech_end=speech_end)
        self.latency.speech_stopped(speech_end, time.monotonic(), self.clock.now())

    async def _on_item_done(self, item: dict) -> None:
        item_id = str(item.get("id") or "")
        role = item.get("role")
        if item.get("type") != "message" or not item_id:
            return
        text = " ".join(
            str(part.get("transcript") or part.get("text") or "").strip()
            for part in item.get("content") or []
            if isinstance(part, dict)
        ).strip()
        if role == "assistant" and text:
            start, end = self.buffer.item_span(item_id)
            end = self._cut.get(item_id, end)
            if await services.save_transcript(
                self.interview_id, ROLE_INTERVIEWER, item_id, text, start, end
            ):
                await self.send(
                    {"event": "transcript", "role": ROLE_INTERVIEWER, "text": text, "final": True}
                )
        elif role == "user" and text:
            await self._save_candidate(item_id, text)

    async def _save_candidate(self, item_id: str, text) -> None:
        text = str(text or "").strip()
        if not item_id or not text:
            return
        start, end = self._speech.get(item_id, (None, None))
        if await services.save_transcript(
            self.interview_id, ROLE_CANDIDATE, item_id, text, start, end
        ):
            await self.send(
                {"event": "transcript", "role": ROLE_CANDIDATE, "text": text, "final": True}
            )

    async def _on_truncated(self, event: dict) -> None:
        item_id = str(event.get("item_id") or "")
        text = event.get("transcript")
        await services.update_transcript(
            self.interview_id,
            ROLE_INTERVIEWER,
            item_id,
            end_seconds=self._cut.get(item_id),
            text=str(text).strip() if isinstance(text, str) and text.strip() else None,
        )

    async def _provider_failed(self, message: str) -> None:
        await self.send_error("provider_unavailable", message or "The AI provider is unavailable.")
        peer = self.peer
        if peer is not None:
            self.detach(peer)  # keep the session: a reconnect starts a new provider, seeded
            with contextlib.suppress(Exception):
                await peer.close(code=CLOSE_PROVIDER_UNAVAILABLE)

    async def _finish_after_playback(self, cap_seconds: float = 30.0) -> None:
        """The interviewer said goodbye: let the browser play it out, then end."""
        deadline = time.monotonic() + cap_seconds
        while time.monotonic() < deadline and self.clock.now() < self.buffer.playback_end() + 0.3:
            await asyncio.sleep(0.05)
        await self.end(Interview.EndReason.INTERVIEWER_FINISHED)

    # -- ending ----------------------------------------------------------------
    async def end(self, reason: Interview.EndReason) -> None:
        """Finish the session exactly once: flush, complete, request mixing, tell the browser."""
        if self.state in ("ended", "handed_off"):
            return
        self.state = "ended"
        SESSIONS.pop(self.key, None)
        await self._release(ended=True)
        await services.complete_interview(interview_id=self.interview_id, end_reason=reason)
        await services.save_latency(self.interview_id, self.latency.summary())
        try:
            await sync_to_async(media_services.request_mixing)(self.interview_id, self.session_id)
        except Exception:
            logger.exception("Interview %s: requesting the audio mix failed", self.interview_id)
        logger.info(
            "Session %s of interview %s ended (%s)",
            self.session_id,
            self.interview_id,
            reason.label,
        )
        peer, self.peer = self.peer, None
        if peer is not None:
            with contextlib.suppress(Exception):
                await peer.send_json({"event": "session_ended", "interview_id": self.interview_id})
                await peer.close(code=CLOSE_NORMAL)

    async def hand_off(self) -> None:
        """Another session took the interview over: release everything, end nothing."""
        if self.state in ("ended", "handed_off"):
            return
        self.state = "handed_off"
        if SESSIONS.get(self.key) is self:
            SESSIONS.pop(self.key, None)
        await self._release(ended=False)
        await services.save_latency(self.interview_id, self.latency.summary())
        peer, self.peer = self.peer, None
        if peer is not None:
            await _superseded(peer)

    async def _release(self, ended: bool) -> None:
        current = asyncio.current_task()
        for task in (self._expiry_task, self._finish_task, self._pump_task, self._flush_task):
            if task is not None and task is not current and not task.done():
                task.cancel()
        if self.provider is not None:
            await self.provider.close()
        if self.buffer is not None:
            async with self._spool_lock:  # never close under a sync running in a thread
                await asyncio.to_thread(self.buffer.close, ended)
        await self._leave_group()

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

    def _remember_cut(self, item_id: str, cut_t: float) -> None:
        self._remember(self._cut, item_id, cut_t)

    @staticmethod
    def _remember(store: OrderedDict, key, value, limit: int = 256) -> None:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)


async def _superseded(peer: Peer) -> None:
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


async def start_session(interview: Interview, session_id: str, peer: Peer) -> LiveSession:
    """Resume the session with this id if this process holds it, else open a new one."""
    session = SESSIONS.get((interview.pk, session_id))
    if session is not None and session.state in ("live", "detached"):
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
