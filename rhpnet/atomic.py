"""Atomic file writes: results and checkpoints appear whole or not at all.

Everything is written to a temporary file in the destination folder, flushed and fsynced, then
renamed over the target with ``os.replace`` (atomic on POSIX and Windows). On any error, a full
disk included, the temporary file is removed and the previous target stays untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` if the block succeeds.

    For writers that insist on opening the file themselves (PyAV, numpy, torch.save).
    The temporary name keeps the target's suffix so format detection by extension still works.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file private (0600); give the result the permissions a plain open()
    # would (0666 minus the umask), so exports can be shared like any other file.
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        durable_replace(tmp, target)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if error.errno is not None and error.filename in (None, tmp_name, str(tmp)):
            # A full disk while writing names no file, or the temporary one: name the target.
            raise type(error)(error.errno, error.strerror, str(target)) from error
        raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """``open()`` lookalike whose file replaces ``target`` only once the block succeeds."""
    if not any(m in mode for m in "wx"):
        raise ValueError("atomic_open only supports write modes")
    with atomic_path(target) as tmp, open(tmp, mode.replace("x", "w"), **kwargs) as handle:
        yield handle


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    with atomic_open(target, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(target, "wb") as handle:
        handle.write(data)


def _read_umask() -> int:
    """The process umask; read once at import (reading it means briefly setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def durable_replace(finished: Path, target: Path) -> None:
    """Rename a completely written file onto ``target`` so that a crash right after leaves
    either the old target or the whole new one: the data reaches the disk before the rename,
    and the rename before returning."""
    # Windows flushes a file only through a handle with write access (fsync on a read-only
    # descriptor fails there); only POSIX can open a folder to flush its entries.
    _fsync(finished, os.O_RDWR)
    os.replace(finished, target)
    if os.name == "posix":
        _fsync(target.parent, os.O_RDONLY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
