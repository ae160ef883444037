"""Finished media and shipped spool segments live in Django's default storage.

With the local filesystem (the default) a stored file *is* a path under MEDIA_ROOT,
so nothing is copied: files are written in place and replaced atomically. With
object storage (``MEDIA_STORAGE=s3``) files are staged in a temporary folder,
uploaded, and downloaded again only when FFmpeg needs a local path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages


def media_storage():
    return default_storage


def is_local() -> bool:
    """The storage is a folder on this machine (paths work, range reads are ours)."""
    return isinstance(storages["default"], FileSystemStorage)


def local_path(name: str) -> Path:
    """The path of ``name`` when the storage is local (see ``is_local``)."""
    return Path(default_storage.path(name))


@contextlib.contextmanager
def staging_dir(prefix: str) -> Iterator[Path]:
    """A folder to write files that ``publish`` then stores under ``prefix``.

    Local storage: the stored folder itself (files move in by atomic rename).
    Object storage: a temporary folder, removed afterwards.
    """
    if is_local():
        directory = local_path(prefix)
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="media-stage-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def publish(path: Path, name: str) -> str:
    """Store the local file ``path`` as ``name`` (replacing it); returns the stored name."""
    path = Path(path)
    if is_local():
        target = local_path(name)
        if path.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        return name
    with open(path, "rb") as fh:
        return default_storage.save(name, File(fh, name=os.path.basename(name)))


def save_bytes(name: str, data: bytes) -> str:
    """Store ``data`` as ``name`` (a small object: a spool segment)."""
    if is_local():
        target = local_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".seg.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return name
    return default_storage.save(name, ContentFile(data, name=os.path.basename(name)))


def read_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def exists(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def size(name: str) -> int:
    return default_storage.size(name)


def delete(name: str) -> None:
    default_storage.delete(name)


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path with the content of ``name``, for FFmpeg (downloaded if need be)."""
    if is_local():
        yield local_path(name)
        return
    suffix = Path(name).suffix
    fd, tmp = tempfile.mkstemp(prefix="media-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


def signed_url(name: str) -> str:
    """A short-lived URL for ``name`` in object storage (``AWS_QUERYSTRING_EXPIRE``)."""
    return default_storage.url(name)
