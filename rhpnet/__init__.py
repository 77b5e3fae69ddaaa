"""RHPNet: HRNet-W32 with an RFSP head for running-pose estimation, plus its codec and estimators.

Public API::

    model = rhpnet.build_model("rhpnet_w32", num_keypoints=17)
    loaded = rhpnet.load_checkpoint("weights.pth")  # format and architecture detected
    loaded.model, loaded.meta, loaded.report

``rhpnet`` never imports ``app`` or ``training``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    import torch

    from rhpnet.checkpoints import LoadedCheckpoint


def build_model(arch: str, num_keypoints: int = 17, **kwargs: Any) -> torch.nn.Module:
    """Build an untrained network by name (see ``rhpnet.model.ARCHITECTURES``)."""
    from rhpnet.model.build import build_model as _build

    return _build(arch, num_keypoints=num_keypoints, **kwargs)


def load_checkpoint(path: str, arch: str | None = None, **kwargs: Any) -> LoadedCheckpoint:
    """Build the right network and load weights from any supported checkpoint format."""
    from rhpnet.checkpoints import load_checkpoint as _load

    return _load(path, arch=arch, **kwargs)
