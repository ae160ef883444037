"""Crash-safe, append-only audio spool: the durable record of what a session received.

Layout, one folder per interview and browser session::

    SPOOL_DIR/<interview_id>/<session_id>/
        mic.pcm       raw 24 kHz mono PCM16 of every accepted mic chunk, appended
        ai.pcm        the same for AI audio deltas
        index.jsonl   one JSON record per line (see ``SpoolWriter``)
        writer        this node's id for the folder (names its shipped segments)

PCM bytes are written before the index line that points at them, with plain
``os.write`` calls, so everything the writer returned from survives a SIGKILL of
the process (it is in the kernel's page cache). ``fsync`` runs at most every
``SPOOL_FLUSH_SECONDS`` so a power cut loses at most about that much. A reader
ignores a torn last line and any record pointing past the end of its PCM file.

Memory use is bounded: the writer keeps no audio, only file handles and offsets.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

SAMPLE_RATE = 24000
BYTES_PER_SAMPLE = 2
# No dots: "." or ".." must never name the interview's folder or the spool root.
_SAFE_SESSION = re.compile(r"[^A-Za-z0-9_-]")


def spool_root() -> Path:
    return Path(settings.SPOOL_DIR)


def interview_spool_dir(interview_id: int) -> Path:
    return spool_root() / str(int(interview_id))


def session_dir_name(session_id: str) -> str:
    cleaned = _SAFE_SESSION.sub("_", session_id)[:80]
    return cleaned or "session"


def writer_id(directory: Path) -> str:
    """The id of the node-local spool in ``directory`` (made on first use).

    A session that moves between nodes has one spool per node; shipped segments are
    named by this id so the pieces of one session never collide.
    """
    path = Path(directory) / "writer"
    with contextlib.suppress(FileNotFoundError):
        existing = path.read_text().strip()
        if existing:
            return existing
    new = uuid.uuid4().hex
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".writer.")
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
    try:
        os.link(tmp, path)  # never replaces an id another opener wrote first
    except FileExistsError:
        new = path.read_text().strip() or new
    finally:
        os.unlink(tmp)
    return new


class SpoolWriter:
    """Append-only writer for one (interview, session) spool.

    Record kinds written to ``index.jsonl`` (all times are seconds on the
    client's interview clock; ``w`` is the server wall clock at write time):

    - ``{"k": "session", "session_id", "w"}`` – opened (again, after a resume)
    - ``{"k": "mic", "seq", "t", "off", "n"}`` – mic chunk at byte ``off``, length ``n``
    - ``{"k": "ai", "seq", "t", "off", "n", "item", "resp"}`` – AI chunk; ``t`` provisional
    - ``{"k": "ai_played", "seq", "t"}`` – client telemetry: scheduled playback start
    - ``{"k": "ai_cut", "seq", "played_ms"}`` – barge-in: chunk cut, nothing later heard
    - ``{"k": "rec", "t", "seg"?}`` – the video recorder started (``seg``: its recording segment)
    - ``{"k": "event", "name", "t", ...}`` – speech marks and latency, for the timeline picture
    - ``{"k": "end"}`` – the session ended cleanly
    """

    def __init__(self, interview_id: int, session_id: str, flush_seconds: float | None = None):
        self.interview_id = int(interview_id)
        self.session_id = session_id
        self.directory = interview_spool_dir(interview_id) / session_dir_name(session_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.writer_id = writer_id(self.directory)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self._mic_fd = os.open(self.directory / "mic.pcm", flags, 0o640)
        self._ai_fd = os.open(self.directory / "ai.pcm", flags, 0o640)
        self._index_fd = os.open(self.directory / "index.jsonl", flags, 0o640)
        self._mic_size = os.fstat(self._mic_fd).st_size
        self._ai_size = os.fstat(self._ai_fd).st_size
        self._index_size = os.fstat(self._index_fd).st_size
        self._flush_seconds = (
            settings.SPOOL_FLUSH_SECONDS if flush_seconds is None else flush_seconds
        )
        self._last_sync = time.monotonic()
        self._dirty = False
        self._lock = threading.Lock()
        self.closed = False
        _FLUSHER.watch(self)
        self._record({"k": "session", "session_id": session_id, "w": time.time()})

    # -- writing ---------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("spool is closed")

    def add_mic(self, seq: int, timestamp: float, pcm: bytes) -> None:
        self._check_open()
        off = self._mic_size
        os.write(self._mic_fd, pcm)
        self._mic_size += len(pcm)
        self._record({"k": "mic", "seq": seq, "t": timestamp, "off": off, "n": len(pcm)})

    def add_ai(
        self,
        seq: int,
        provisional_timestamp: float,
        pcm: bytes,
        item_id: str = "",
        response_id: str = "",
    ) -> None:
        self._check_open()
        off = self._ai_size
        os.write(self._ai_fd, pcm)
        self._ai_size += len(pcm)
        self._record(
            {
                "k": "ai",
                "seq": seq,
                "t": provisional_timestamp,
                "off": off,
                "n": len(pcm),
                "item": item_id,
                "resp": response_id,
            }
        )

    def ai_played(self, seq: int, timestamp: float) -> None:
        self._record({"k": "ai_played", "seq": seq, "t": timestamp})

    def ai_cut(self, seq: int, played_ms: float) -> None:
        self._record({"k": "ai_cut", "seq": seq, "played_ms": played_ms})

    def recording_started(self, timestamp: float, segment: int | None = None) -> None:
        record = {"k": "rec", "t": timestamp}
        if segment is not None:
            record["seg"] = int(segment)
        self._record(record)

    def event(self, name: str, timestamp: float | None, **data) -> None:
        self._record({"k": "event", "name": name, "t": timestamp, **data})

    def end(self) -> None:
        self._record({"k": "end"})
        self.sync()

    def _record(self, record: dict) -> None:
        self._check_open()
        line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        data = line.encode()
        os.write(self._index_fd, data)
        self._index_size += len(data)
        self._dirty = True
        if time.monotonic() - self._last_sync >= self._flush_seconds:
            self.sync()

    def position(self) -> tuple[int, int, int]:
        """Bytes written so far: (index, mic, ai). The index is read first, so every
        index line it covers points at PCM the other two cover (PCM is written first)."""
        index = self._index_size
        return index, self._mic_size, self._ai_size

    def sync(self) -> None:
        """Force written data to stable storage (the periodic flush)."""
        with self._lock:
            if self.closed or not self._dirty:
                return
            self._dirty = False  # before fsync: a write racing with it marks dirty again
            for fd in (self._mic_fd, self._ai_fd, self._index_fd):
                os.fsync(fd)
            self._last_sync = time.monotonic()

    def sync_if_due(self) -> None:
        """Called by the background flusher: an idle writer still reaches the disk in time."""
        if self._dirty and time.monotonic() - self._last_sync >= self._flush_seconds:
            self.sync()

    def close(self) -> None:
        if self.closed:
            return
        self.sync()
        with self._lock:
            if self.closed:
                return
            for fd in (self._mic_fd, self._ai_fd, self._index_fd):
                os.close(fd)
            self.closed = True

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Flusher:
    """One daemon thread that fsyncs idle writers, so no data waits past the flush period.

    A writer that keeps receiving audio syncs itself on write; this catches the
    last writes before a pause. Writers are held weakly and dropped when closed.
    """

    def __init__(self) -> None:
        self._writers: weakref.WeakSet[SpoolWriter] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, writer: SpoolWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="spool-flusher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            with self._lock:
                writers = list(self._writers)
            for writer in writers:
                if writer.closed:
                    self._writers.discard(writer)
                    continue
                with contextlib.suppress(OSError):  # closed meanwhile: nothing left to flush
                    writer.sync_if_due()


_FLUSHER = _Flusher()


# -- reading ---------------------------------------------------------------


@dataclass
class SpoolChunk:
    seq: int
    timestamp: float  # mic: capture time; ai: provisional server time
    offset: int
    length: int
    item_id: str = ""
    response_id: str = ""
    played_at: float | None = None  # ai only: client-scheduled playback start
    played_ms: float | None = None  # ai only: cut after this many ms (barge-in)

    @property
    def samples(self) -> int:
        return self.length // BYTES_PER_SAMPLE


@dataclass
class SessionSpool:
    """Everything one session's spool holds, with duplicates already dropped."""

    directory: Path
    session_id: str
    mic: list[SpoolChunk] = field(default_factory=list)
    ai: list[SpoolChunk] = field(default_factory=list)
    recording_started: float | None = None
    recording_segment: int | None = None  # the recording segment the page said it uploads
    ended_cleanly: bool = False
    events: list[dict] = field(default_factory=list)
    opened_at: float | None = None

    @property
    def mic_path(self) -> Path:
        return self.directory / "mic.pcm"

    @property
    def ai_path(self) -> Path:
        return self.directory / "ai.pcm"


def _iter_records(index_path: Path) -> Iterator[dict]:
    data = index_path.read_bytes()
    end = data.rfind(b"\n")
    data = data[: end + 1]  # a torn last line (crash mid-write) is dropped
    if not data:
        return
    try:
        # One C-level parse for the whole index: the common, undamaged case.
        records = json.loads(b"[" + data[:-1].replace(b"\n", b",") + b"]")
    except ValueError:
        records = None
    if records is not None:
        yield from (r for r in records if isinstance(r, dict))
        return
    for raw in data.splitlines():  # damaged somewhere: parse line by line, skip bad lines
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def read_session(directory: Path) -> SessionSpool:
    directory = Path(directory)
    mic_size = (directory / "mic.pcm").stat().st_size if (directory / "mic.pcm").exists() else 0
    ai_size = (directory / "ai.pcm").stat().st_size if (directory / "ai.pcm").exists() else 0
    spool = SessionSpool(directory=directory, session_id=directory.name)
    mic: dict[int, SpoolChunk] = {}
    ai: dict[int, SpoolChunk] = {}
    played: dict[int, float] = {}
    cuts: dict[int, float] = {}
    index = directory / "index.jsonl"
    if not index.exists():
        return spool
    for rec in _iter_records(index):
        try:
            _apply_record(rec, spool, mic, ai, played, cuts, mic_size, ai_size)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed record loses itself, never the rest of the spool
    for seq, t in played.items():
        if seq in ai:
            ai[seq].played_at = t
    for seq, ms in cuts.items():
        if seq in ai:
            ai[seq].played_ms = ms
    spool.mic = sorted(mic.values(), key=lambda c: (c.timestamp, c.seq))
    spool.ai = sorted(ai.values(), key=lambda c: c.seq)
    return spool


def _apply_record(rec, spool, mic, ai, played, cuts, mic_size, ai_size) -> None:
    """Fold one index record into the session being read."""
    kind = rec.get("k")
    if kind == "session":
        spool.session_id = rec.get("session_id", spool.session_id)
        if spool.opened_at is None:
            spool.opened_at = rec.get("w")
    elif kind in ("mic", "ai"):
        off, n, seq = int(rec["off"]), int(rec["n"]), int(rec["seq"])
        limit = mic_size if kind == "mic" else ai_size
        if off < 0 or n < 0 or off + n > limit or n % BYTES_PER_SAMPLE or off % BYTES_PER_SAMPLE:
            return  # index line whose PCM never reached the disk, or damaged
        target = mic if kind == "mic" else ai
        if seq in target:
            return  # first copy wins; duplicates change nothing
        target[seq] = SpoolChunk(
            seq=seq,
            timestamp=float(rec["t"]),
            offset=off,
            length=n,
            item_id=rec.get("item", "") or "",
            response_id=rec.get("resp", "") or "",
        )
    elif kind == "ai_played":
        played.setdefault(int(rec["seq"]), float(rec["t"]))  # first report wins
    elif kind == "ai_cut":
        cuts.setdefault(int(rec["seq"]), float(rec["played_ms"]))
    elif kind == "rec":
        spool.recording_started = float(rec["t"])
        segment = rec.get("seg")
        if isinstance(segment, int) and not isinstance(segment, bool) and segment >= 0:
            spool.recording_segment = segment
    elif kind == "event":
        spool.events.append(rec)
    elif kind == "end":
        spool.ended_cleanly = True


def first_wall_time(directory: Path) -> float:
    """Server wall time of a session folder's first record (its ``session`` line).

    Inode times change when files are copied or restored from a backup; the
    first record does not, so it orders sessions reliably.
    """
    index = Path(directory) / "index.jsonl"
    try:
        with open(index, "rb") as fh:
            first = fh.readline()
        record = json.loads(first)
        if isinstance(record, dict) and isinstance(record.get("w"), int | float):
            return float(record["w"])
    except (OSError, ValueError):
        pass
    try:
        return index.stat().st_mtime
    except OSError:
        return 0.0


def session_dirs(interview_id: int) -> list[Path]:
    """Session folders of an interview, oldest first (by the first record's wall time)."""
    root = interview_spool_dir(interview_id)
    if not root.exists():
        return []
    dirs = [d for d in root.iterdir() if d.is_dir() and (d / "index.jsonl").exists()]
    return sorted(dirs, key=lambda d: (first_wall_time(d), d.name))
