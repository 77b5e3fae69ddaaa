"""Residual blocks and conv-BN helpers shared by the HRNet trunk and the RFSP head.

Attribute names (``conv1``, ``bn1``, ``downsample`` ...) follow the official HRNet code on
purpose: the state-dict keys of public HRNet checkpoints are derived from them, so keeping them
lets published weights load by name.
"""

from __future__ import annotations

import torch
from torch import nn

KernelSize = int | tuple[int, int]


def _pair(value: KernelSize) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: KernelSize = 1,
    stride: int = 1,
    dilation: int = 1,
    relu: bool = True,
) -> nn.Sequential:
    """``CBR`` (relu=True) or ``CB`` (relu=False) of the spec: bias-free conv, BN, optional ReLU.

    Padding keeps the resolution ("same" padding, ``dilation * (k - 1) / 2`` per axis), so only
    ``stride`` changes the output size. Submodule names are ``0`` (conv), ``1`` (BN), ``2`` (ReLU),
    the layout of HRNet's transition and fuse layers.
    """
    kh, kw = _pair(kernel_size)
    padding = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels,
            out_channels,
            (kh, kw),
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or projected) shortcut; HRNet's branch block."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(in_channels, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a shortcut; the blocks of HRNet's stage 1."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


def make_blocks(
    block: type[BasicBlock] | type[Bottleneck], in_channels: int, planes: int, num_blocks: int
) -> nn.Sequential:
    """Stack ``num_blocks`` blocks; the first gets a 1x1 conv-BN shortcut when widths differ."""
    out_channels = planes * block.expansion
    downsample = None
    if in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
        )
    layers = [block(in_channels, planes, downsample)]
    layers += [block(out_channels, planes) for _ in range(num_blocks - 1)]
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """HRNet's initialisation: conv weights N(0, 0.001^2), biases 0, BatchNorm gamma 1 / beta 0.

    BatchNorm running statistics are reset too, so a network allocated with ``to_empty`` is
    fully defined afterwards.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.001)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
            layer.reset_running_stats()
