"""The interface every AI provider implements, and what it is seeded with.

Providers speak OpenAI Realtime's server-event vocabulary as plain dicts
(``response.output_audio.delta``, ``conversation.item.done``,
``input_audio_buffer.speech_started``, ``error`` …) so the session has one code path.
A few events outside that vocabulary report the provider's own life cycle:

- ``provider.disconnected`` ``{message}`` – the upstream connection dropped; reconnecting.
- ``provider.reconnected`` ``{}`` – a new upstream session, re-seeded.
- ``provider.failed`` ``{message, final}`` – the provider is dead: gave up reconnecting, or
  (``final``) the upstream refused the conversation for good; ``message`` is for staff.
- ``provider.response_failed`` ``{reason}`` – a reply failed and will not be retried.
- ``provider.interview_complete`` ``{}`` – the interviewer said goodbye.

``audio_start_ms`` (where the speech began) / ``audio_end_ms`` always count input audio
handed to ``append_audio`` since the provider started, across upstream reconnects.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class ProviderRefused(Exception):
    """The provider will never run this conversation (key, quota, configuration).

    ``reason`` is written for staff; the candidate is only told the interviewer is
    unavailable.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HistoryEntry:
    role: str  # "candidate" | "interviewer"
    text: str


@dataclass
class SessionSeed:
    """What a provider session starts from: the job and the conversation so far."""

    instructions: str = ""
    questions: list[str] = field(default_factory=list)
    candidate_name: str = ""
    job_title: str = ""
    history: list[HistoryEntry] = field(default_factory=list)

    def full_instructions(self) -> str:
        parts = [self.instructions.strip()] if self.instructions.strip() else []
        if self.job_title:
            parts.append(
                f"You are interviewing {self.candidate_name or 'a candidate'} for the role: {self.job_title}."
            )
        if self.questions:
            listed = "\n".join(f"{i + 1}. {q}" for i, q in enumerate(self.questions))
            parts.append(
                "Greet the candidate briefly, then ask these questions in order, one per answer, "
                "without giving feedback:\n" + listed
            )
        parts.append(
            "After the answer to the last question, thank the candidate, say goodbye and call "
            "the end_interview tool."
        )
        return "\n\n".join(parts)


class RealtimeProvider(ABC):
    """One AI conversation. Created per live session; ``events()`` is consumed by one reader."""

    name = "base"
    #: Silence the provider's turn detection waits before ``speech_stopped``; the
    #: candidate's speech really ended this long before ``audio_end_ms``.
    turn_silence_ms = 0

    def __init__(self) -> None:
        self._events: asyncio.Queue[dict | None] = asyncio.Queue()
        self.closed = False
        self._emitted = 0
        self._handled = 0

    # -- lifecycle -------------------------------------------------------------
    @abstractmethod
    async def start(self, seed: SessionSeed) -> None:
        """Open the conversation; raise if the provider cannot be reached at all."""

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._events.put_nowait(None)

    @property
    def alive(self) -> bool:
        return not self.closed

    # -- input -----------------------------------------------------------------
    @abstractmethod
    async def append_audio(self, pcm: bytes) -> None:
        """Candidate audio: 24 kHz mono PCM16."""

    @abstractmethod
    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """The candidate heard only ``audio_end_ms`` of this AI item."""

    @abstractmethod
    async def cancel_response(self) -> None:
        """Stop the reply in progress (the candidate is no longer listening)."""

    async def settle(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until the candidate's ended turns are transcribed."""
        return  # nothing to wait for unless the provider transcribes in the background

    @abstractmethod
    async def resume_after_drop(self) -> None:
        """The browser came back after its connection dropped mid-reply: carry on naturally."""

    # -- output ----------------------------------------------------------------
    def emit(self, event: dict) -> None:
        if not self.closed:
            self._emitted += 1
            self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[dict]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event
            self._handled += 1  # resumed: the reader has finished with the event

    async def wait_handled(self, timeout: float) -> None:
        """Until the reader has handled every event emitted so far (e.g. stored the
        transcript a re-seed will read back), at most ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._handled < self._emitted and loop.time() < deadline and not self.closed:
            await asyncio.sleep(0.01)
