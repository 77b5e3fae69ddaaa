"""Architecture table and builder: ``build_model("rhpnet_w32", num_keypoints=17)``.

Each architecture is a plain ``ModelConfig``; the ``*_tiny`` variants run the same code with
narrow widths and one block/module per stage so training and tests run in seconds on a CPU.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rhpnet.model.blocks import init_weights
from rhpnet.model.config import ModelConfig
from rhpnet.model.hrnet import HRNet
from rhpnet.model.rhpnet import RHPNet

_W48 = {"widths": (48, 96, 192, 384)}
_TINY = {
    "stem_channels": 16,
    "stage1_planes": 16,
    "stage1_blocks": 1,
    "widths": (8, 16, 32, 64),
    "blocks_per_branch": 1,
    "modules_per_stage": (1, 1, 1),
}

ARCHITECTURES: dict[str, ModelConfig] = {
    "hrnet_w32": ModelConfig(arch="hrnet_w32", head="plain"),
    "hrnet_w48": ModelConfig(arch="hrnet_w48", head="plain", **_W48),
    "rhpnet_w32": ModelConfig(arch="rhpnet_w32", head="rfsp"),
    "rhpnet_w48": ModelConfig(arch="rhpnet_w48", head="rfsp", **_W48),
    "hrnet_tiny": ModelConfig(arch="hrnet_tiny", head="plain", **_TINY),
    "rhpnet_tiny": ModelConfig(arch="rhpnet_tiny", head="rfsp", **_TINY),
}


def build_model(arch: str, num_keypoints: int = 17, **overrides: Any) -> nn.Module:
    """An untrained network (HRNet initialisation) mapping (N,3,H,W) to (N,K,H/4,W/4).

    ``overrides`` replace fields of the architecture's ``ModelConfig`` (e.g. ``widths``); the
    result's ``.config`` records them, so a checkpoint of it rebuilds the same network.
    H and W must be multiples of 32 (the lowest branch runs at 1/32).
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
    config = ARCHITECTURES[arch].replace(num_keypoints=num_keypoints, **overrides)
    return build_from_config(config)


def build_from_config(config: ModelConfig, *, initialise: bool = True) -> nn.Module:
    """Build on the meta device, then allocate and initialise once.

    Constructing on CPU would first run PyTorch's default (Kaiming) init on every layer only to
    overwrite it with HRNet's; skipping that halves the build time of the W32/W48 networks.
    ``initialise=False`` leaves the memory as allocated, for a caller that fills every tensor
    itself (loading a checkpoint initialises only what the file does not provide).
    """
    network = HRNet if config.head == "plain" else RHPNet
    with torch.device("meta"):
        model = network(config)
    model = model.to_empty(device="cpu")
    if initialise:
        init_weights(model)
    return model
