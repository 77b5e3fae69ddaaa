"""Read a ``torch.save`` file without executing anything from it, with one-line errors.

``torch.load(..., weights_only=True)`` refuses pickles that name arbitrary Python objects. That
is what we want for untrusted files, but public checkpoints (OpenMMLab's among them) keep
harmless bookkeeping objects next to their tensors (numpy arrays, ``HistoryBuffer`` logs in
``meta``) and would be refused whole. Here such objects are replaced by inert ``Unloaded``
placeholders: the restricted unpickler still runs, only our placeholder class is ever
instantiated, and the tensors come through. Modules torch blocks outright (``os``, ``sys``...)
stay refused.

The file type is checked before unpickling so the user learns whether a file is truncated,
something else entirely, or a checkpoint with unexpected content.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from rhpnet.errors import CheckpointError

_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)


class Unloaded:
    """Stands in for a non-tensor Python object a checkpoint refers to; holds its raw state."""

    global_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Unloaded:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<unloaded {self.global_name}>"


def _placeholder(global_name: str) -> type[Unloaded]:
    return type("Unloaded", (Unloaded,), {"global_name": global_name})


def read_torch_file(path: Path) -> Any:
    """Unpickle ``path`` onto the CPU safely; raise ``CheckpointError`` naming what is wrong."""
    _check_file_type(path)
    try:
        return _load_with_placeholders(path)
    except CheckpointError:
        raise
    except pickle.UnpicklingError as error:
        message = str(error)
        if "blocked" in message or "Unsupported global" in message:
            detail = message.split("WeightsUnpickler error:")[-1].strip().splitlines()[0]
            raise CheckpointError(
                f"{path} refers to Python code that is never loaded from untrusted files ({detail})"
            ) from error
        raise CheckpointError(f"{path} is truncated or corrupt ({_first_line(error)})") from error
    except (EOFError, RuntimeError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is truncated or corrupt ({_first_line(error)})") from error


def _load_with_placeholders(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" not in str(error) or not zipfile.is_zipfile(path):
            raise
        refused = error
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        allowed = torch.serialization.safe_globals([(_placeholder(n), n) for n in unsafe])
    except (AttributeError, TypeError):
        raise refused from None  # torch < 2.6 cannot register placeholders under other names
    with allowed:
        return torch.load(path, map_location="cpu", weights_only=True)


def _check_file_type(path: Path) -> None:
    if not path.exists():
        raise CheckpointError(f"checkpoint file not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes)")
    with open(path, "rb") as handle:
        head = handle.read(len(_LEGACY_MAGIC))
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as error:
            raise CheckpointError(
                f"{path} is truncated or corrupt (incomplete zip archive: {error})"
            ) from error
        if not any(name.endswith("data.pkl") for name in names):
            raise CheckpointError(f"{path} is a zip archive but not a PyTorch checkpoint")
        if any("/code/" in name or name.startswith("code/") for name in names):
            raise CheckpointError(
                f"{path} is a TorchScript model, not a checkpoint; save its state_dict instead"
            )
    elif head != _LEGACY_MAGIC:
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint (unrecognised content; expected a torch.save file)"
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
