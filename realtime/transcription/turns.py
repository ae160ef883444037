"""A candidate turn's audio and its transcription, as OpenAI Realtime reports it.

``TurnAudio`` keeps the candidate's recent audio (so a turn can start before the
detector was sure: the prefix padding, a barge-in's first words) and the audio of the
turn in progress, addressed in milliseconds of input audio like the detector's events.
A long turn is cut into segments at pauses, so no segment outgrows Whisper's 30 s
window, memory stays bounded and most of a long answer is already transcribed when
the candidate stops.

``TurnTranscript`` sends a turn's segments to the process's ``Transcriber`` and emits,
for its user item, what OpenAI emits: ``…input_audio_transcription.delta`` per
segment, then ``…completed {item_id, content_index, transcript, usage}``, or ``…failed``
with an ``error``. It runs as its own task: the interview never waits for it.

``CandidateTurns`` ties the two together for the offline interviewer: the provider tells
it when a turn starts and ends, and it does the rest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable

from .service import QueueFull, Transcriber, TranscriberUnavailable

logger = logging.getLogger("realtime.transcription")

BYTES_PER_MS = 48  # 24 kHz mono PCM16

#: ``error.code`` of a ``…failed`` event when recognition did not run at all.
UNAVAILABLE = "transcription_unavailable"
#: Recognition ran and raised.
FAILED = "transcription_failed"
#: Recognition ran on an answer and found no words.
NO_SPEECH = "speech_not_recognized"


class TurnAudio:
    """Recent input audio plus the turn in progress, by input-audio milliseconds."""

    def __init__(self, keep_ms: int = 3000):
        self.keep_bytes = keep_ms * BYTES_PER_MS
        self._audio = bytearray()
        self._start = 0  # input byte position of _audio[0]
        self.in_turn = False

    @property
    def received_ms(self) -> int:
        return (self._start + len(self._audio)) // BYTES_PER_MS

    @property
    def held_ms(self) -> int:
        """Audio of the turn in progress not yet taken as a segment."""
        return len(self._audio) // BYTES_PER_MS if self.in_turn else 0

    def append(self, pcm: bytes) -> None:
        self._audio += pcm
        if not self.in_turn and len(self._audio) > self.keep_bytes:
            self._drop_to(self._start + len(self._audio) - self.keep_bytes)

    def start_turn(self, audio_start_ms: int) -> None:
        self.in_turn = True
        self._drop_to(audio_start_ms * BYTES_PER_MS)

    def take(self, end_ms: int) -> bytes:
        """The turn's audio up to ``end_ms`` (a segment); the turn goes on after it."""
        end = max(self._start, min(end_ms * BYTES_PER_MS, self._start + len(self._audio)))
        segment = bytes(self._audio[: end - self._start])
        self._drop_to(end)
        return segment

    def end_turn(self, end_ms: int) -> bytes:
        segment = self.take(end_ms)
        self.in_turn = False
        return segment

    def discard_turn(self) -> None:
        self.in_turn = False
        self.append(b"")  # back to keeping only the recent audio

    def _drop_to(self, position: int) -> None:
        position -= position % 2
        drop = min(max(0, position - self._start), len(self._audio))
        if drop:
            del self._audio[:drop]
            self._start += drop


class TurnTranscript:
    """One user item's transcription: segments in, OpenAI transcription events out."""

    def __init__(self, item_id: str, transcriber: Transcriber, emit: Callable[[dict], None]):
        self.item_id = item_id
        self._transcriber = transcriber
        self._emit = emit
        self._parts: asyncio.Queue = asyncio.Queue()
        self._futures: list[concurrent.futures.Future] = []
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._expect_words = False
        self._ended_at: float | None = None

    @property
    def task(self) -> asyncio.Task:
        return self._task

    def add(self, pcm: bytes) -> None:
        """Send one segment to the recogniser now (never blocks)."""
        if not pcm:
            return
        try:
            future = self._transcriber.submit(pcm)
        except QueueFull as exc:
            logger.warning(
                "Speech-to-text queue full: %.1f s of item %s not transcribed now (%s); "
                "the spool keeps it for `transcribe_interview`",
                len(pcm) / BYTES_PER_MS / 1000,
                self.item_id,
                exc,
            )
            self._parts.put_nowait(exc)
            return
        except TranscriberUnavailable as exc:
            self._parts.put_nowait(exc)
            return
        self._futures.append(future)
        self._parts.put_nowait(future)

    def finish(self, expect_words: bool) -> None:
        """No more segments. ``expect_words``: the turn was an answer, not a cough."""
        self._expect_words = expect_words
        self._ended_at = time.monotonic()
        self._parts.put_nowait(None)

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()  # frees its queue place unless it is already running
        self._task.cancel()

    def give_up(self, reason: str) -> None:
        """Stop waiting: report the turn as not transcribed."""
        self.cancel()
        logger.warning("Item %s: %s; the spool keeps its audio", self.item_id, reason)
        self._failed(UNAVAILABLE, reason)

    async def _run(self) -> None:
        texts: list[str] = []
        seconds = 0.0
        failure: BaseException | None = None
        while (part := await self._parts.get()) is not None:
            if isinstance(part, BaseException):
                failure = failure or part
                continue
            try:
                result = await asyncio.wrap_future(part)
            except TranscriberUnavailable as exc:
                failure = failure or exc
                continue
            except Exception as exc:
                logger.exception("Speech-to-text failed on item %s", self.item_id)
                failure = failure or exc
                continue
            seconds += result.audio_seconds
            if result.text:
                self._event("delta", delta=(" " if texts else "") + result.text)
                texts.append(result.text)
        logger.debug(
            "Item %s: %.1f s of speech transcribed %.2f s after the turn ended",
            self.item_id,
            seconds,
            time.monotonic() - (self._ended_at or time.monotonic()),
        )
        if failure is not None:
            unavailable = isinstance(failure, TranscriberUnavailable)
            self._failed(UNAVAILABLE if unavailable else FAILED, str(failure) or "error")
        elif not texts and self._expect_words:
            self._failed(NO_SPEECH, "No words were recognised in the candidate's speech.")
        else:
            self._event(
                "completed",
                transcript=" ".join(texts),
                usage={"type": "duration", "seconds": round(seconds, 3)},
            )

    def _failed(self, code: str, message: str) -> None:
        self._event(
            "failed",
            error={"type": "transcription_error", "code": code, "message": message, "param": None},
        )

    def _event(self, kind: str, **fields) -> None:
        self._emit(
            {
                "type": f"conversation.item.input_audio_transcription.{kind}",
                "item_id": self.item_id,
                "content_index": 0,
                **fields,
            }
        )


class CandidateTurns:
    """The offline interviewer's ears: every accepted turn's audio, transcribed in the background.

    A turn longer than ``segment_ms`` is sent in parts, cut at the first pause of at least
    ``segment_pause_ms``, or at ``max_segment_ms`` without one. ``tail_ms`` of audio
    after the detected end of speech is kept, so a soft last syllable is not clipped.
    """

    def __init__(
        self,
        transcriber: Transcriber,
        emit: Callable[[dict], None],
        *,
        segment_ms: int,
        segment_pause_ms: int,
        max_segment_ms: int,
        tail_ms: int,
    ):
        self._transcriber = transcriber
        self._emit = emit
        self._segment_ms = segment_ms
        self._segment_pause_ms = segment_pause_ms
        self._max_segment_ms = max_segment_ms
        self._tail_ms = tail_ms
        self._audio = TurnAudio()
        self._current: TurnTranscript | None = None
        self._running: set[TurnTranscript] = set()

    def hear(self, pcm: bytes) -> None:
        """All input audio, before the turn detector sees it."""
        self._audio.append(pcm)

    def start(self, item_id: str, audio_start_ms: int) -> None:
        self._audio.start_turn(audio_start_ms)
        transcript = TurnTranscript(item_id, self._transcriber, self._emit)
        self._current = transcript
        self._running.add(transcript)
        transcript.task.add_done_callback(lambda _t: self._running.discard(transcript))

    def cut_if_long(self, processed_ms: int, quiet_ms: int) -> None:
        """Called after each chunk: send the turn so far if it is long (at a pause if any)."""
        held = self._audio.held_ms
        if self._current is None:
            return
        if (held >= self._segment_ms and quiet_ms >= self._segment_pause_ms) or (
            held >= self._max_segment_ms
        ):
            pause_start = processed_ms - quiet_ms
            self._current.add(self._audio.take(pause_start + min(quiet_ms, self._tail_ms)))

    def end(self, speech_end_ms: int, expect_words: bool) -> None:
        """The turn was an utterance: transcribe its rest and report when done."""
        transcript, self._current = self._current, None
        audio = self._audio.end_turn(speech_end_ms + self._tail_ms)
        if transcript is not None:
            transcript.add(audio)
            transcript.finish(expect_words)

    def discard(self) -> None:
        """The turn was noise: no transcript, nothing reported."""
        transcript, self._current = self._current, None
        self._audio.discard_turn()
        if transcript is not None:
            transcript.cancel()

    async def wait_transcribed(self, timeout: float) -> None:
        """Until every ended turn has reported its transcript, at most ``timeout`` seconds.

        A turn still waiting then is reported as not transcribed (its entry keeps its
        place and times; ``transcribe_interview`` can fill it in from the spool).
        """
        ended = [t for t in self._running if t is not self._current]
        if not ended:
            return
        _done, late = await asyncio.wait([t.task for t in ended], timeout=timeout)
        for transcript in ended:
            if transcript.task in late:
                transcript.give_up(f"not transcribed within {timeout:.0f} s of the goodbye")

    def close(self) -> None:
        for transcript in list(self._running):
            transcript.cancel()
