"""Parameters and multiply-accumulates in the convention of the HRNet/RHPNet papers (docs/rhpnet_spec.md §4.1).

MACs are counted by forward hooks on every Conv2d and Linear that actually runs for one input
of the given size: ``output elements x (C_in / groups) x k_h x k_w`` for a conv (dilation and
stride only act through the output size), ``output elements x in_features`` for a Linear.
Biases, BatchNorm, activations, pooling, upsampling and additions are not counted. The papers'
"GFLOPs" are these MACs divided by 2^30 (docs/rhpnet_spec.md §4.2), exposed as ``gflops_paper``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch
from torch import nn

from rhpnet.model.config import DEFAULT_INPUT_SIZE


@dataclass(frozen=True)
class Complexity:
    """Counts for one input size; ``macs_by_part`` groups MACs by top-level submodule name."""

    params: int
    macs: int
    input_size: tuple[int, int]
    params_by_part: dict[str, int] = field(default_factory=dict)
    macs_by_part: dict[str, int] = field(default_factory=dict)

    @property
    def gflops_paper(self) -> float:
        """MACs / 2^30 rounded to 2 decimals: the unit of the HRNet and RHPNet tables."""
        return round(self.macs / 2**30, 2)


def layer_macs(module: nn.Module, output: torch.Tensor) -> int:
    """MACs of one Conv2d or Linear call that produced ``output`` (batch included)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    raise TypeError(f"MACs are only counted for Conv2d and Linear, not {type(module).__name__}")


def count_params(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def count_params_and_macs(
    model: nn.Module, input_size: tuple[int, int] = DEFAULT_INPUT_SIZE, in_channels: int = 3
) -> Complexity:
    """Count trainable parameters and conv/linear MACs of one forward at 1 x C x H x W.

    The model is run in eval mode under ``torch.no_grad`` (BN statistics stay untouched) and its
    training flag is restored afterwards.
    """
    height, width = input_size
    macs_by_part: dict[str, int] = defaultdict(int)
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            part = name.split(".")[0]

            def hook(
                module: nn.Module, _inputs: object, output: torch.Tensor, part: str = part
            ) -> None:
                macs_by_part[part] += layer_macs(module, output)

            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_channels, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    by_child = {name: count_params(child) for name, child in model.named_children()}
    params_by_part = {name: count for name, count in by_child.items() if count}
    direct = sum(p.numel() for p in model.parameters(recurse=False))
    if direct:
        params_by_part[""] = direct
    return Complexity(
        params=count_params(model),
        macs=sum(macs_by_part.values()),
        input_size=(height, width),
        params_by_part=params_by_part,
        macs_by_part=dict(macs_by_part),
    )
