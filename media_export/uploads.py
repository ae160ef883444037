"""Streaming the video upload to disk with a hard size cap.

The handler writes each chunk straight into a temporary file inside the
uploads folder (so the final ``os.replace`` stays on one file system) and
counts the bytes as they arrive: the cap holds even when Content-Length is
missing or lies. Nothing is kept in memory beyond one chunk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


def incoming_dir() -> Path:
    path = Path(settings.UPLOADS_VIDEOS_DIR) / ".incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


class StreamedUpload(UploadedFile):
    """An upload already on disk: ``temporary_file_path`` is its name."""

    def __init__(self, path: str, name: str, content_type: str, size: int):
        super().__init__(open(path, "rb"), name, content_type, size)  # noqa: SIM115
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path

    def discard(self) -> None:
        self.close()
        Path(self._path).unlink(missing_ok=True)


class CappedDiskUploadHandler(FileUploadHandler):
    """Writes file fields to ``uploads/videos/.incoming``; aborts past ``max_bytes``."""

    def __init__(self, request=None, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.MAX_VIDEO_UPLOAD_BYTES if max_bytes is None else max_bytes
        self.received = 0
        self.too_large = False
        self._fd: int | None = None
        self._path: str | None = None
        self.paths: list[str] = []

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._fd, self._path = tempfile.mkstemp(
            prefix="upload-", suffix=".part", dir=incoming_dir()
        )
        self.paths.append(self._path)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.cleanup()
            raise StopUpload(connection_reset=True)
        os.write(self._fd, raw_data)
        return None

    def file_complete(self, file_size: int) -> StreamedUpload:
        os.close(self._fd)
        self._fd = None
        return StreamedUpload(self._path, self.file_name, self.content_type, file_size)

    def upload_interrupted(self) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for path in self.paths:
            Path(path).unlink(missing_ok=True)


def sniff_container(path: str) -> str | None:
    """``"webm"`` or ``"mp4"`` by magic bytes, else ``None``."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    if head.startswith(WEBM_MAGIC):
        return "webm"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mp4"
    return None
