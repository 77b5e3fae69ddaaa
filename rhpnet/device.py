"""Turn the user's ``--device`` choice into a ``torch.device``, failing clearly when it can't.

``auto`` prefers a CUDA GPU, then Apple's MPS, then the CPU. An explicit ``cuda``/``mps`` on a
machine without one is a user error (one line, no traceback), not a silent CPU fallback: the
user asked for speed they would not get.
"""

from __future__ import annotations

import re

import torch

from rhpnet.errors import UserFacingError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
_CUDA_PATTERN = re.compile(r"^cuda(?::(\d+))?$")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"`` (or a torch.device) -> torch.device."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    name = str(spec).strip().lower()

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise UserFacingError(
                "device 'mps' was requested but Apple's MPS backend is not available on this "
                "machine; use --device auto or --device cpu"
            )
        return torch.device("mps")

    match = _CUDA_PATTERN.match(name)
    if match is None:
        raise UserFacingError(
            f"unknown device {spec!r}; expected one of {', '.join(DEVICE_CHOICES)}"
        )
    if not torch.cuda.is_available():
        raise UserFacingError(
            f"device {name!r} was requested but no CUDA GPU is available (torch "
            f"{torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); install a CUDA "
            "build of torch or use --device cpu"
        )
    index = int(match.group(1)) if match.group(1) is not None else None
    if index is not None and index >= torch.cuda.device_count():
        raise UserFacingError(
            f"device {name!r} was requested but only {torch.cuda.device_count()} CUDA GPU(s) "
            f"exist (cuda:0 to cuda:{torch.cuda.device_count() - 1})"
        )
    return torch.device(name)
