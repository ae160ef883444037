"""An interview's spool as every node sees it: local folders plus shipped segments.

A session that moved between nodes has one spool per node (a *writer*). Reading a
session joins its writers in the order they were opened: this node's own folder
when it has one (it holds everything that writer wrote), otherwise the writer's
segments from storage. The joined copy lives in a temporary folder removed when the
returned ``SessionSpool`` is garbage-collected; duplicates across writers are
dropped by ``read_session`` (the first copy of a seq wins).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from . import storage
from .models import SpoolSegment
from .shipping import decode_segment, local_writer_id
from .spool import (
    BYTES_PER_SAMPLE,
    SAMPLE_RATE,
    SessionSpool,
    first_wall_time,
    interview_spool_dir,
    read_session,
    session_dir_name,
)

logger = logging.getLogger("media_export.stored_spool")


class IncompleteSpool(Exception):
    """A segment the index announced cannot be read: the audio would be incomplete."""


@dataclass
class Writer:
    writer: str
    opened_at: float
    local: Path | None = None
    segments: list[SpoolSegment] = field(default_factory=list)


def _local_folders(interview_id: int) -> dict[str, Path]:
    root = interview_spool_dir(interview_id)
    if not root.exists():
        return {}
    return {d.name: d for d in root.iterdir() if d.is_dir() and (d / "index.jsonl").exists()}


def _writers(interview_id: int) -> dict[str, list[Writer]]:
    """Every session (by folder name) and its writers, oldest first."""
    sessions: dict[str, dict[str, Writer]] = {}
    for key, directory in _local_folders(interview_id).items():
        writer = local_writer_id(directory) or f"local-{key}"
        sessions.setdefault(key, {})[writer] = Writer(
            writer, first_wall_time(directory), local=directory
        )
    rows = SpoolSegment.objects.filter(interview_id=interview_id).order_by("writer", "number")
    for row in rows:
        writers = sessions.setdefault(session_dir_name(row.session_id), {})
        writer = writers.setdefault(row.writer, Writer(row.writer, row.opened_at))
        if writer.local is None:
            writer.segments.append(row)
    return {
        key: sorted(writers.values(), key=lambda w: (w.opened_at, w.writer))
        for key, writers in sessions.items()
    }


def session_names(interview_id: int) -> list[str]:
    """The interview's sessions (folder names) on this node or in storage, oldest first."""
    sessions = _writers(interview_id)
    return sorted(sessions, key=lambda k: (sessions[k][0].opened_at, k))


def has_stored_session(interview_id: int, session_id: str) -> bool:
    """Some node has spooled this session (its folder here, or segments in storage)."""
    key = session_dir_name(session_id)
    if (interview_spool_dir(interview_id) / key / "index.jsonl").exists():
        return True
    return any(
        session_dir_name(s) == key
        for s in SpoolSegment.objects.filter(interview_id=interview_id)
        .values_list("session_id", flat=True)
        .distinct()
    )


def find_session(interview_id: int, session_id: str, *, strict: bool = True):
    """The joined spool of one session, or None. ``strict``: a missing segment raises
    ``IncompleteSpool``; otherwise the writer's readable prefix is used (a resume)."""
    writers = _writers(interview_id).get(session_dir_name(session_id))
    if not writers:
        return None
    return _join(writers, strict=strict)


def latest_session(interview_id: int, *, strict: bool = True) -> SessionSpool | None:
    """The most recently opened session with audio, joined across its writers."""
    sessions = _writers(interview_id)
    for key in sorted(sessions, key=lambda k: sessions[k][0].opened_at, reverse=True):
        spool = _join(sessions[key], strict=strict)
        if spool.mic or spool.ai:
            return spool
    return None


def all_sessions(interview_id: int, *, strict: bool = True) -> list[SessionSpool]:
    """Every session of the interview joined across its writers, oldest first."""
    sessions = _writers(interview_id)
    order = sorted(sessions, key=lambda k: (sessions[k][0].opened_at, k))
    return [_join(sessions[key], strict=strict) for key in order]


def _segments_of(writer: Writer, strict: bool):
    """Decoded segments of a writer in order, checked to join up byte for byte."""
    expected = (0, 0, 0)
    for number, row in enumerate(writer.segments):
        where = f"segment {row.number} of session {row.session_id!r} (node spool {row.writer})"
        try:
            if row.number != number or (row.index_start, row.mic_start, row.ai_start) != expected:
                raise IncompleteSpool(f"{where} does not follow the one before it")
            try:
                data = storage.read_bytes(row.name)
            except Exception as exc:
                raise IncompleteSpool(f"{where} is missing from the media storage") from exc
            if len(data) != row.size:
                raise IncompleteSpool(f"{where} is {len(data)} bytes in storage, not {row.size}")
            try:
                yield decode_segment(data)
            except (ValueError, KeyError, TypeError) as exc:
                raise IncompleteSpool(f"{where} is damaged") from exc
        except IncompleteSpool as exc:
            if strict:
                raise
            logger.warning("Using the spool up to the gap: %s", exc)
            return
        expected = (row.index_end, row.mic_end, row.ai_end)


def _join(writers: list[Writer], *, strict: bool) -> SessionSpool:
    if len(writers) == 1 and writers[0].local is not None:
        return read_session(writers[0].local)
    directory = Path(tempfile.mkdtemp(prefix="spool-joined-"))
    try:
        bases = [0, 0]
        with (
            open(directory / "mic.pcm", "wb") as mic,
            open(directory / "ai.pcm", "wb") as ai,
            open(directory / "index.jsonl", "wb") as index,
        ):
            for writer in writers:
                if writer.local is not None:
                    pieces = [_local_pieces(writer.local)]
                else:
                    pieces = (p[1:] for p in _segments_of(writer, strict))
                written = [0, 0]
                for mic_bytes, ai_bytes, index_bytes in pieces:
                    _copy(mic_bytes, mic)
                    _copy(ai_bytes, ai)
                    written[0] += _size(mic_bytes)
                    written[1] += _size(ai_bytes)
                    index.write(_rebase(_bytes(index_bytes), bases))
                bases = [bases[0] + written[0], bases[1] + written[1]]
        spool = read_session(directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    weakref.finalize(spool, shutil.rmtree, str(directory), True)
    return spool


def _local_pieces(directory: Path):
    """A local writer's files: mic and AI as paths (copied in blocks), index as bytes."""
    data = (directory / "index.jsonl").read_bytes()
    return directory / "mic.pcm", directory / "ai.pcm", data[: data.rfind(b"\n") + 1]


def _size(piece) -> int:
    if isinstance(piece, Path):
        return piece.stat().st_size if piece.exists() else 0
    return len(piece)


def _bytes(piece) -> bytes:
    return piece.read_bytes() if isinstance(piece, Path) else piece


def _copy(piece, out) -> None:
    if isinstance(piece, Path):
        if piece.exists():
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
    else:
        out.write(piece)


def _rebase(index: bytes, bases: list[int]) -> bytes:
    """Index lines with mic/AI offsets moved past the writers joined before."""
    if bases == [0, 0]:
        return index
    lines = []
    for raw in index.splitlines():
        try:
            record = json.loads(raw)
            if record.get("k") == "mic":
                record["off"] = int(record["off"]) + bases[0]
            elif record.get("k") == "ai":
                record["off"] = int(record["off"]) + bases[1]
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # damaged line: skipped, as read_session would
        lines.append(json.dumps(record, separators=(",", ":")).encode())
    return b"".join(line + b"\n" for line in lines)


def coverage_problems(spool: SessionSpool) -> list[str]:
    """What the export would silently lack: gaps in the mic or AI chunk sequence."""
    problems = []
    for track, chunks in (("microphone", spool.mic), ("interviewer", spool.ai)):
        seqs = sorted(c.seq for c in chunks)
        if not seqs:
            continue
        missing = seqs[-1] + 1 - len(seqs)  # a session's chunks are numbered from 0
        if missing:
            seconds = missing * _typical_seconds(chunks)
            problems.append(
                f"{missing} {track} audio chunks (about {seconds:.1f} s) of session "
                f"{spool.session_id!r} never reached the media storage"
            )
    return problems


def _typical_seconds(chunks) -> float:
    lengths = sorted(c.length for c in chunks)
    return lengths[len(lengths) // 2] / BYTES_PER_SAMPLE / SAMPLE_RATE
