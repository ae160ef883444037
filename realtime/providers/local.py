"""The offline interviewer: Silero VAD and Whisper in, eSpeak NG out, no network and no key.

It greets the candidate, asks the job's questions in order (one per answer) and says
goodbye after the last one, emitting the same server events OpenAI Realtime would.
Each candidate turn is transcribed in the background by the process's Whisper model
(``realtime.transcription``): the next question never waits for it, and the transcript
arrives as ``conversation.item.input_audio_transcription.completed``, as OpenAI's does.
Turns are detected by Silero VAD (``LOCAL_VAD``), or the energy VAD as its fallback.

Barge-in: while the interviewer is talking, ``barge_in_ms`` of voiced candidate speech
emits ``input_audio_buffer.speech_started`` and stops the reply; the session then
truncates the item to what the candidate heard. A question cut off before
``reask_below`` of it was heard is asked again after the candidate's turn.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings

from ..transcription import Transcriber, get_transcriber
from ..transcription.turns import CandidateTurns
from .base import RealtimeProvider, SessionSeed
from .local_voice import Reply, SpokenReplies
from .silero_vad import SileroConfig
from .tts import EspeakSynthesizer
from .vad import VadConfig, create_turn_detector

logger = logging.getLogger("realtime.providers.local")


@dataclass(frozen=True)
class LocalTiming:
    chunk_ms: int = 100  # size of each audio delta
    lead_ms: int = 300  # audio is sent up to this far ahead of real time
    speed: float = 1.0  # streaming pace as a multiple of real time (tests use more)
    min_answer_ms: int = 600  # voiced speech a turn needs to count as an answer
    barge_in_ms: int = 300  # voiced speech during the interviewer's reply that interrupts it
    reask_below: float = 0.6  # repeat an interrupted question heard less than this fraction
    min_modulation_db: float = 3.0  # level spread a turn needs to be speech, not steady noise
    segment_ms: int = 20000  # a longer turn is transcribed in parts, cut at a pause …
    segment_pause_ms: int = 200  # … at least this long …
    max_segment_ms: int = 28000  # … or here without one (Whisper hears 30 s at a time)
    transcript_tail_ms: int = 200  # audio kept after the detected end of speech
    transcript_wait_s: float = 20.0  # after the goodbye, how long to wait for transcripts


class LocalInterviewer(SpokenReplies, RealtimeProvider):
    name = "local"

    def __init__(
        self,
        *,
        vad: VadConfig | None = None,
        silero: SileroConfig | None = None,
        turn_detection: str | None = None,
        timing: LocalTiming | None = None,
        voice: str = "en-us",
        words_per_minute: int = 165,
        transcriber: Transcriber | None = None,
    ):
        super().__init__()
        self.vad = create_turn_detector(turn_detection or settings.LOCAL_VAD, vad, silero)
        self.timing = timing or LocalTiming()
        self.turn_silence_ms = self.vad.config.silence_ms
        self._transcriber = transcriber or get_transcriber()
        t = self.timing
        self._ears = CandidateTurns(
            self._transcriber,
            self.emit,
            segment_ms=t.segment_ms,
            segment_pause_ms=t.segment_pause_ms,
            max_segment_ms=t.max_segment_ms,
            tail_ms=t.transcript_tail_ms,
        )
        self._tts = EspeakSynthesizer(voice=voice, words_per_minute=words_per_minute)
        self._ids = itertools.count(1)
        # Item ids must stay unique per interview across provider sessions (transcript key).
        self._prefix = secrets.token_hex(4)
        self._seed = SessionSeed()
        self._questions: list[str] = []
        self._asked: int | None = None  # index of the question awaiting an answer
        self._finished = False
        self._reply: Reply | None = None
        self._reply_task: asyncio.Task | None = None
        self._complete_task: asyncio.Task | None = None
        self._playback_end = 0.0  # loop time when the current reply should finish playing
        self._user_item: str | None = None
        self._barge_pending: int | None = None  # audio_start_ms of a possible barge-in
        self._last_question: Reply | None = None

    # -- lifecycle -------------------------------------------------------------
    async def start(self, seed: SessionSeed) -> None:
        self._seed = seed
        self._transcriber.preload()  # a server did at startup; elsewhere, before the first answer
        self._questions = [q for q in seed.questions if str(q).strip()] or [
            "Please introduce yourself and tell me why this role interests you."
        ]
        self.emit({"type": "session.created", "session": {"type": "realtime", "model": "local"}})
        answered = sum(1 for h in seed.history if h.role == "candidate")
        first_name = (seed.candidate_name or "").split(" ")[0]
        if not seed.history:
            role = f" for the {seed.job_title} role" if seed.job_title else ""
            hello = f"Hello {first_name}, " if first_name else "Hello, "
            self._ask(0, f"{hello}and welcome to this interview{role}. ")
        elif answered >= len(self._questions):
            self._close_interview("Welcome back. ")
        else:
            self._ask(answered, "Welcome back. Let's continue. ")

    async def close(self) -> None:
        for task in (self._reply_task, self._complete_task):
            if task is not None and not task.done():
                task.cancel()
        self._ears.close()
        await super().close()

    async def settle(self, timeout: float) -> None:
        await self._ears.wait_transcribed(timeout)

    # -- input -----------------------------------------------------------------
    async def append_audio(self, pcm: bytes) -> None:
        if self.closed:
            return
        self._ears.hear(pcm)
        for event in self.vad.feed(pcm):
            if event.kind == "speech_started":
                if self._speaking():
                    self._barge_pending = event.audio_ms
                else:
                    self._speech_started(event.audio_ms)
            else:
                pending, self._barge_pending = self._barge_pending, None
                if pending is None and self._user_item is not None:
                    self._speech_stopped(event)
        if (
            self._barge_pending is not None
            and self.vad.current_speech_ms >= self.timing.barge_in_ms
        ):
            start, self._barge_pending = self._barge_pending, None
            self._speech_started(start)
            self._stop_reply()
        if self._user_item is not None:
            self._ears.cut_if_long(self.vad.processed_ms, self.vad.trailing_silence_ms)

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        reply = self._find_reply(item_id)
        if reply is None:
            self.emit(_error("invalid_value", f"Unknown item {item_id!r}", "item_id"))
            return
        if audio_end_ms > reply.speech.duration_ms + 1:
            self.emit(
                _error("invalid_value", "audio_end_ms is past the item's audio", "audio_end_ms")
            )
            return
        reply.heard_ms = float(audio_end_ms)
        self.emit(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": int(audio_end_ms),
                # Not in OpenAI's event: the offline voice knows its word timings.
                "transcript": reply.speech.text_until(audio_end_ms),
            }
        )

    async def cancel_response(self) -> None:
        self._stop_reply()

    async def resume_after_drop(self) -> None:
        reply = self._last_question
        if reply is not None and reply.cancelled and self._asked is not None and not self._finished:
            self._ask(self._asked, "Sorry, we lost the connection for a moment. ")

    # -- turn taking -----------------------------------------------------------
    def _speaking(self) -> bool:
        loop = asyncio.get_running_loop()
        generating = self._reply_task is not None and not self._reply_task.done()
        return generating or loop.time() < self._playback_end

    def _speech_started(self, audio_start_ms: int) -> None:
        self._user_item = f"item_{self._prefix}_{next(self._ids)}"
        self._ears.start(self._user_item, audio_start_ms)
        self.emit(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": int(audio_start_ms),
                "item_id": self._user_item,
            }
        )

    def _speech_stopped(self, event) -> None:
        item_id, self._user_item = self._user_item, None
        self.emit(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": int(event.audio_ms),
                "item_id": item_id,
            }
        )
        if event.modulation_db < self.timing.min_modulation_db:
            # A steady noise got louder than the floor for a moment: not a candidate turn.
            logger.debug(
                "Ignoring a %d ms turn with %.1f dB modulation",
                event.speech_ms,
                event.modulation_db,
            )
            self._ears.discard()
            self._after_candidate_turn(0)
            return
        self.emit(
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}
        )
        # As OpenAI's: the item carries no transcript; it follows in its own event.
        item = {
            "id": item_id,
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.emit({"type": "conversation.item.added", "item": {**item, "status": "in_progress"}})
        self.emit({"type": "conversation.item.done", "item": item})
        self._ears.end(
            event.speech_end_ms, expect_words=event.speech_ms >= self.timing.min_answer_ms
        )
        self._after_candidate_turn(event.speech_ms)

    def _after_candidate_turn(self, speech_ms: int) -> None:
        closing = self._reply
        if self._finished:
            if closing is not None and closing.kind == "closing" and closing.cancelled:
                self._close_interview("")  # the goodbye was interrupted: say it again
            return
        if self._asked is None:
            return
        last = self._last_question
        cut_short = (
            last is not None
            and last.cancelled
            and (last.heard_ms if last.heard_ms is not None else last.sent_ms)
            < self.timing.reask_below * last.speech.duration_ms
        )
        if cut_short:
            self._ask(self._asked, "Sorry, let me finish the question. ")
            return
        if speech_ms < self.timing.min_answer_ms:
            return  # a cough or a short noise: keep waiting for the answer
        nxt = self._asked + 1
        if nxt < len(self._questions):
            self._ask(nxt, "Thank you. ")
        else:
            self._close_interview("Thank you. ")

    def _ask(self, index: int, prefix: str) -> None:
        self._asked = index
        self._start_reply(prefix + self._questions[index], "question")

    def _close_interview(self, prefix: str) -> None:
        self._asked = None
        self._finished = True
        name = (self._seed.candidate_name or "").split(" ")[0]
        text = (
            f"{prefix}That was my last question. Thank you for your time today"
            f"{', ' + name if name else ''}. We will be in touch. Goodbye."
        )
        self._start_reply(text, "closing")

    async def _complete_when_transcribed(self) -> None:
        """The interview ends only when the last answers' transcripts are out (or too late)."""
        await self._ears.wait_transcribed(self.timing.transcript_wait_s)
        self.emit({"type": "provider.interview_complete"})


def _error(code: str, message: str, param: str | None = None) -> dict:
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
        },
    }
