"""Candidate turns read back from the spool, and transcribed again.

The spool keeps every mic chunk with its client timestamp and, for each candidate
turn, ``speech_started`` / ``speech_stopped`` events with the provider's item id, the
turn's start (prefix padding included) and its speech end, on the same client clock.
That is all a turn's audio needs, so a turn the live session could not transcribe
(model missing, queue full, server restarted) or one transcribed by an older model can
be transcribed again at any time: ``manage.py transcribe_interview <id>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from interviews.models import TranscriptEntry
from media_export.spool import SAMPLE_RATE, SessionSpool, read_session
from media_export.spool import session_dirs as spool_session_dirs

from .service import Transcriber

TAIL_SECONDS = 0.2  # audio kept after the speech end, as the live path keeps


@dataclass(frozen=True)
class SpooledTurn:
    item_id: str
    start: float  # client seconds
    end: float  # client seconds: the speech end plus TAIL_SECONDS
    spool: SessionSpool


@dataclass(frozen=True)
class Outcome:
    entry_id: int
    item_id: str
    old_text: str
    new_text: str
    flag: str
    changed: bool


def spooled_turns(interview_id: int) -> dict[str, SpooledTurn]:
    """Every candidate turn the spool has marks for, by item id (latest session wins)."""
    turns: dict[str, SpooledTurn] = {}
    for directory in spool_session_dirs(interview_id):
        spool = read_session(directory)
        starts: dict[str, float] = {}
        for event in spool.events:
            item = str(event.get("item_id") or "")
            name = event.get("name")
            if name == "speech_started" and item and event.get("t") is not None:
                starts[item] = float(event["t"])
            elif name == "speech_stopped" and item in starts:
                end = event.get("speech_end")
                if end is None:
                    end = event.get("t")
                if end is not None and float(end) > starts[item]:
                    turns[item] = SpooledTurn(item, starts[item], float(end) + TAIL_SECONDS, spool)
    return turns


def turn_pcm(turn: SpooledTurn) -> bytes:
    """The mic audio between the turn's start and end, each chunk at its capture time."""
    first = round(turn.start * SAMPLE_RATE)
    out = np.zeros(max(0, round(turn.end * SAMPLE_RATE) - first), dtype="<i2")
    if not len(out):
        return b""
    fd = os.open(turn.spool.mic_path, os.O_RDONLY)
    try:
        for chunk in turn.spool.mic:
            at = round(chunk.timestamp * SAMPLE_RATE) - first
            if at >= len(out) or at + chunk.samples <= 0:
                continue
            pcm = np.frombuffer(os.pread(fd, chunk.length, chunk.offset), dtype="<i2")
            lo, hi = max(0, -at), min(chunk.samples, len(out) - at)
            out[at + lo : at + hi] = pcm[lo:hi]
    finally:
        os.close(fd)
    return out.tobytes()


def retranscribe(
    interview_id: int,
    transcriber: Transcriber,
    *,
    only_untranscribed: bool = False,
    dry_run: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> tuple[list[Outcome], list[TranscriptEntry]]:
    """Transcribe the interview's candidate entries again from the spool.

    Returns the outcomes and the entries the spool has no audio for. An entry gets the
    new text with its flag cleared; a turn in which no words are recognised becomes
    "[inaudible]" with that flag. Times are not touched: they came from the same marks.
    """
    entries = TranscriptEntry.objects.filter(
        interview_id=interview_id, role=TranscriptEntry.Role.CANDIDATE
    ).order_by("start_seconds", "id")
    if only_untranscribed:
        entries = entries.exclude(flag="")
    turns = spooled_turns(interview_id)
    outcomes, missing = [], []
    for entry, turn in _paired(entries, turns, missing):
        pcm = turn_pcm(turn)
        text = transcriber.transcribe(pcm).text.strip() if pcm else ""
        flag = "" if text else TranscriptEntry.Flag.INAUDIBLE.value
        text = text or "[inaudible]"
        changed = (text, flag) != (entry.text, entry.flag)
        if changed and not dry_run:
            TranscriptEntry.objects.filter(pk=entry.pk).update(text=text, flag=flag)
        outcome = Outcome(entry.pk, turn.item_id, entry.text, text, flag, changed)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes, missing


def _paired(entries, turns, missing) -> Iterator[tuple[TranscriptEntry, SpooledTurn]]:
    for entry in entries:
        turn = turns.get(entry.provider_item_id)
        if turn is None:
            missing.append(entry)
        else:
            yield entry, turn
