"""Per-turn latency of the interviewer's replies, summarised as p50/p95 per interview.

A turn runs from the candidate's speech end to the first AI chunk the browser
scheduled. Four figures per turn, in milliseconds:

- ``end_of_turn_ms``: speech end → the provider's ``speech_stopped`` reached the server
  (the turn detector's hangover plus transport; mixed clocks, via ``ClientClock``).
- ``first_audio_ms``: ``speech_stopped`` → first AI audio delta at the server (server clock).
- ``playback_start_ms``: that delta reached the server → the browser scheduled it
  (mixed clocks).
- ``voice_to_voice_ms``: speech end → scheduled playback of the reply, both on the
  client clock: what the candidate experiences.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

logger = logging.getLogger("realtime.latency")

STAGES = ("end_of_turn_ms", "first_audio_ms", "playback_start_ms", "voice_to_voice_ms")


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of unsorted values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class _Turn:
    speech_end_t: float | None  # client clock
    stopped_server: float  # server monotonic
    stopped_client: float  # the same instant on the client clock
    first_audio_server: float | None = None
    first_audio_client: float | None = None
    first_seq: int | None = None


@dataclass
class LatencyTracker:
    interview_id: int
    log_turns: bool = False
    max_turns: int = 1000
    samples: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    turns: int = 0
    _turn: _Turn | None = None

    def speech_stopped(
        self, speech_end_t: float | None, server_now: float, client_now: float
    ) -> None:
        self._turn = _Turn(speech_end_t, server_now, client_now)

    def speech_started(self) -> None:
        """The candidate spoke again before any reply audio: that turn produced no reply yet."""
        if self._turn is not None and self._turn.first_seq is None:
            self._turn = None

    def ai_audio(self, seq: int, server_now: float, client_now: float) -> None:
        turn = self._turn
        if turn is not None and turn.first_seq is None:
            turn.first_seq = seq
            turn.first_audio_server = server_now
            turn.first_audio_client = client_now

    def ai_played(self, seq: int, played_t: float) -> dict | None:
        """Completes the turn when its first reply chunk is reported; returns the figures."""
        turn = self._turn
        if turn is None or turn.first_seq != seq:
            return None
        self._turn = None
        figures = {
            "end_of_turn_ms": (turn.stopped_client - turn.speech_end_t) * 1000
            if turn.speech_end_t is not None
            else None,
            "first_audio_ms": (turn.first_audio_server - turn.stopped_server) * 1000,
            "playback_start_ms": (played_t - turn.first_audio_client) * 1000,
            "voice_to_voice_ms": (played_t - turn.speech_end_t) * 1000
            if turn.speech_end_t is not None
            else None,
        }
        self.turns += 1
        for stage, value in figures.items():
            if value is not None and len(self.samples[stage]) < self.max_turns:
                self.samples[stage].append(round(value, 1))
        if self.log_turns:
            logger.info(
                "interview %s turn %d: %s",
                self.interview_id,
                self.turns,
                " ".join(f"{k}={v:.0f}" for k, v in figures.items() if v is not None),
            )
        return figures

    def summary(self) -> dict:
        out: dict = {"turns": self.turns}
        for stage, values in self.samples.items():
            if values:
                out[stage] = {
                    "p50": round(percentile(values, 50), 1),
                    "p95": round(percentile(values, 95), 1),
                    "n": len(values),
                }
        return out
