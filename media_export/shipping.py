"""Shipping a node's local spool to the media storage as sealed segments.

The spool stays on the node's disk (fast appends, fsync); what is new since the last
shipment goes out as one object per segment::

    spool-segments/<interview>/<session>/<writer>/<number>.seg
        one JSON header line, then the new mic PCM, AI PCM and index bytes

and one ``SpoolSegment`` row announces it. Offsets in the index are the writer's
own, so a writer's segments joined in order rebuild its spool byte for byte. A
session ships when it ends or moves and every ``SPOOL_SHIP_SECONDS`` in between,
so a node that dies loses at most that much of what it alone had received.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from . import storage
from .models import SpoolSegment
from .spool import SpoolWriter, first_wall_time, session_dir_name

logger = logging.getLogger("media_export.shipping")

SEGMENT_PREFIX = "spool-segments"
FORMAT = 1


def segment_name(interview_id: int, session_id: str, writer: str, number: int) -> str:
    session = session_dir_name(session_id)
    return f"{SEGMENT_PREFIX}/{int(interview_id)}/{session}/{writer}/{number:06d}.seg"


@dataclass
class Shipment:
    number: int
    name: str
    size: int
    index_bytes: int
    mic_bytes: int
    ai_bytes: int


def _read_range(path: Path, start: int, end: int) -> bytes:
    if end <= start:
        return b""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    if len(data) != end - start:
        raise OSError(f"{path.name} is shorter than written")
    return data


def encode_segment(header: dict, mic: bytes, ai: bytes, index: bytes) -> bytes:
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + mic + ai + index


def decode_segment(data: bytes) -> tuple[dict, bytes, bytes, bytes]:
    """(header, mic, ai, index) of a stored segment; ValueError when it is damaged."""
    head, _, body = data.partition(b"\n")
    header = json.loads(head)
    if not isinstance(header, dict) or header.get("v") != FORMAT:
        raise ValueError("not a spool segment")
    mic_n = header["mic"][1] - header["mic"][0]
    ai_n = header["ai"][1] - header["ai"][0]
    index_n = header["index"][1] - header["index"][0]
    if len(body) != mic_n + ai_n + index_n:
        raise ValueError("spool segment is truncated")
    return header, body[:mic_n], body[mic_n : mic_n + ai_n], body[mic_n + ai_n :]


class SpoolShipper:
    """Ships one ``SpoolWriter``'s new bytes; safe to call from any thread."""

    def __init__(self, writer: SpoolWriter):
        self.writer = writer
        self.opened_at = first_wall_time(writer.directory)
        self._lock = threading.Lock()
        last = (
            SpoolSegment.objects.filter(
                interview_id=writer.interview_id,
                session_id=writer.session_id,
                writer=writer.writer_id,
            )
            .order_by("-number")
            .first()
        )
        if last is None:
            self.number, self.index, self.mic, self.ai = 0, 0, 0, 0
        else:  # this node's spool was shipped before (a restart): continue after it
            self.number = last.number + 1
            self.index, self.mic, self.ai = last.index_end, last.mic_end, last.ai_end
        self.requests = 0  # object-store writes made (bench figures)

    def ship(self) -> Shipment | None:
        """Store what was written since the last shipment; None when nothing was."""
        with self._lock:
            index_end, mic_end, ai_end = self.writer.position()
            if (index_end, mic_end, ai_end) == (self.index, self.mic, self.ai):
                return None
            directory = self.writer.directory
            index = _read_range(directory / "index.jsonl", self.index, index_end)
            cut = index.rfind(b"\n") + 1  # whole lines only
            index, index_end = index[:cut], self.index + cut
            mic = _read_range(directory / "mic.pcm", self.mic, mic_end)
            ai = _read_range(directory / "ai.pcm", self.ai, ai_end)
            header = {
                "v": FORMAT,
                "session_id": self.writer.session_id,
                "writer": self.writer.writer_id,
                "number": self.number,
                "opened_at": self.opened_at,
                "index": [self.index, index_end],
                "mic": [self.mic, mic_end],
                "ai": [self.ai, ai_end],
            }
            data = encode_segment(header, mic, ai, index)
            name = segment_name(
                self.writer.interview_id, self.writer.session_id, self.writer.writer_id, self.number
            )
            stored = storage.save_bytes(name, data)
            self.requests += 1
            SpoolSegment.objects.create(
                interview_id=self.writer.interview_id,
                session_id=self.writer.session_id,
                writer=self.writer.writer_id,
                number=self.number,
                name=stored,
                size=len(data),
                opened_at=self.opened_at,
                index_start=self.index,
                index_end=index_end,
                mic_start=self.mic,
                mic_end=mic_end,
                ai_start=self.ai,
                ai_end=ai_end,
            )
            shipment = Shipment(
                self.number, stored, len(data), index_end - self.index, len(mic), len(ai)
            )
            self.number += 1
            self.index, self.mic, self.ai = index_end, mic_end, ai_end
            logger.debug("Shipped %s (%d bytes)", stored, len(data))
            return shipment


def local_writer_id(directory: Path) -> str | None:
    """The writer id of a node-local spool folder, without creating one."""
    try:
        return (Path(directory) / "writer").read_text().strip() or None
    except OSError:
        return None


def pcm_files_size(directory: Path) -> int:
    return sum(
        os.path.getsize(p)
        for p in (Path(directory) / n for n in ("mic.pcm", "ai.pcm"))
        if p.exists()
    )
