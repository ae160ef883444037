"""The candidate's recording as it arrives: numbered parts of numbered segments.

The browser cuts its MediaRecorder output into parts of a few seconds and uploads each
as soon as it exists; a reload or a reconnect starts a new segment. Parts are kept
through Django's storage API under::

    recordings/<interview id>/<segment>/<n>.part     part n (0-based) of a segment
    recordings/<interview id>/<segment>/complete     the page said "N parts" (N inside)
    recordings/<interview id>/closed                 the recording is final: no more parts

A part, once stored, never changes: the same bytes again are a no-op (a retry), other
bytes are a conflict. Only FFmpeg needs a local file: ``assemble`` joins a segment's
parts into one (MediaRecorder's pieces concatenate into a valid stream).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .uploads import WEBM_MAGIC

PREFIX = "recordings"
MAX_SEGMENT = 9999
MAX_PART = 99999


class PartConflict(Exception):
    """Other bytes are already stored under this part number."""


class RecordingClosed(Exception):
    """The recording is final; parts can no longer be added."""


@dataclass(frozen=True)
class Segment:
    segment: int
    parts: list[int]
    bytes: int
    complete: bool
    declared_parts: int | None

    def as_json(self) -> dict:
        return {
            "segment": self.segment,
            "parts": self.parts,
            "bytes": self.bytes,
            "complete": self.complete,
        }

    @property
    def contiguous(self) -> int:
        """How many parts from 0 are there without a hole (what can be played)."""
        count = 0
        for n in self.parts:
            if n != count:
                break
            count += 1
        return count


def _interview_dir(interview_id: int) -> str:
    return f"{PREFIX}/{int(interview_id)}"


def _segment_dir(interview_id: int, segment: int) -> str:
    return f"{_interview_dir(interview_id)}/{int(segment)}"


def part_name(interview_id: int, segment: int, n: int) -> str:
    return f"{_segment_dir(interview_id, segment)}/{int(n)}.part"


def _closed_name(interview_id: int) -> str:
    return f"{_interview_dir(interview_id)}/closed"


def is_closed(interview_id: int) -> bool:
    return default_storage.exists(_closed_name(interview_id))


def close(interview_id: int) -> None:
    """Mark the recording final (idempotent)."""
    if not is_closed(interview_id):
        default_storage.save(_closed_name(interview_id), ContentFile(b"closed\n"))


def _digest(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def store_part(interview_id: int, segment: int, n: int, data: bytes) -> bool:
    """Store part ``n`` of ``segment``. True: newly stored; False: the same bytes were there.

    The caller serialises stores of one interview (the export row lock).
    """
    if is_closed(interview_id):
        raise RecordingClosed(interview_id)
    name = part_name(interview_id, segment, n)
    if default_storage.exists(name):
        same = default_storage.size(name) == len(data) and _digest(name) == (
            hashlib.sha256(data).hexdigest()
        )
        if not same:
            raise PartConflict(name)
        return False
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # stored meanwhile by another writer: keep theirs
        default_storage.delete(saved)
        return store_part(interview_id, segment, n, data)
    return True


def _numbers(names: list[str], suffix: str) -> list[int]:
    found = []
    for name in names:
        stem = name[: -len(suffix)] if suffix and name.endswith(suffix) else name
        if (name.endswith(suffix) or not suffix) and stem.isdigit():
            found.append(int(stem))
    return sorted(found)


def segments(interview_id: int) -> list[Segment]:
    """What the server holds of the interview's recording, segment by segment."""
    root = _interview_dir(interview_id)
    try:  # object storage has no folders: a prefix without objects lists empty
        dirs, _files = default_storage.listdir(root)
    except FileNotFoundError:
        return []
    result = []
    for segment in _numbers(dirs, ""):
        directory = _segment_dir(interview_id, segment)
        _sub, files = default_storage.listdir(directory)
        parts = _numbers(files, ".part")
        size = sum(default_storage.size(part_name(interview_id, segment, n)) for n in parts)
        declared = None
        if "complete" in files:
            with default_storage.open(f"{directory}/complete", "rb") as fh:
                text = fh.read(32).decode("ascii", "replace").strip()
            declared = int(text) if text.isdigit() else None
        complete = declared is not None and parts[:declared] == list(range(declared))
        result.append(Segment(segment, parts, size, complete, declared))
    return result


def missing_parts(interview_id: int, segment: int, count: int) -> list[int]:
    present = set()
    for seg in segments(interview_id):
        if seg.segment == segment:
            present = set(seg.parts)
    return [n for n in range(count) if n not in present]


def mark_complete(interview_id: int, segment: int, count: int) -> None:
    name = f"{_segment_dir(interview_id, segment)}/complete"
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(f"{int(count)}\n".encode()))


def playable_segments(interview_id: int) -> list[Segment]:
    """Segments whose first part arrived (it holds the container header)."""
    return [s for s in segments(interview_id) if s.contiguous > 0]


def container_of_first_part(data: bytes) -> str | None:
    if data.startswith(WEBM_MAGIC):
        return "webm"
    if len(data) >= 8 and data[4:8] == b"ftyp":
        return "mp4"
    return None


def assemble(interview_id: int, segment: Segment, destination: Path) -> int:
    """Join the segment's parts 0..k-1 (up to the first hole) into a local file."""
    count = segment.declared_parts if segment.complete else segment.contiguous
    written = 0
    with open(destination, "wb") as out:
        for n in range(count):
            with default_storage.open(part_name(interview_id, segment.segment, n), "rb") as fh:
                shutil.copyfileobj(fh, out, 1024 * 1024)
                written = out.tell()
    return written
