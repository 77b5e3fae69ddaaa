"""The building blocks of RHPNet's RFSP head: RFB-S, RFB and SimSPPF (docs/rhpnet_spec.md §3.3, §3.4, §3.7).

RFB-S and RFB (RFBNet, Liu et al. ECCV 2018) widen the receptive field with parallel branches
of growing dilation; SimSPPF (YOLOv6) pools at three effective sizes (5, 9, 13) cheaply by
chaining 5x5 max-pools. All keep the spatial resolution.
"""

from __future__ import annotations

import torch
from torch import nn

from rhpnet.model.blocks import conv_bn


class _ReceptiveFieldBlock(nn.Module):
    """Shared tail of RFB and RFB-S: concat branches, 1x1 "linear" conv, add shortcut, ReLU.

    RFBNet scales the linear branch by lambda before the addition; every RFBNet model uses 1.0
    (spec A8), so the addition is unscaled.
    """

    branches: nn.ModuleList

    def __init__(self, in_channels: int, out_channels: int, concat_channels: int):
        super().__init__()
        self.linear = conv_bn(concat_channels, out_channels, 1, relu=False)
        self.shortcut = conv_bn(in_channels, out_channels, 1, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.relu(self.linear(joined) + self.shortcut(x))


class RFBS(_ReceptiveFieldBlock):
    """RFB-s: four branches, 3x3 / 3x1+3x3d3 / 1x3+3x3d3 / 1x3+3x1+3x3d5, inner width C/4."""

    def __init__(self, in_channels: int, out_channels: int):
        inner = max(1, in_channels // 4)
        half = max(1, inner // 2)
        three_quarters = max(1, 3 * inner // 4)
        super().__init__(in_channels, out_channels, 4 * inner)
        self.branches = nn.ModuleList(
            [
                nn.Sequential(
                    conv_bn(in_channels, inner, 1),
                    conv_bn(inner, inner, 3, relu=False),
                ),
                nn.Sequential(
                    conv_bn(in_channels, inner, 1),
                    conv_bn(inner, inner, (3, 1)),
                    conv_bn(inner, inner, 3, dilation=3, relu=False),
                ),
                nn.Sequential(
                    conv_bn(in_channels, inner, 1),
                    conv_bn(inner, inner, (1, 3)),
                    conv_bn(inner, inner, 3, dilation=3, relu=False),
                ),
                nn.Sequential(
                    conv_bn(in_channels, half, 1),
                    conv_bn(half, three_quarters, (1, 3)),
                    conv_bn(three_quarters, inner, (3, 1)),
                    conv_bn(inner, inner, 3, dilation=5, relu=False),
                ),
            ]
        )


class RFB(_ReceptiveFieldBlock):
    """RFB: three branches ending in 3x3 convs of dilation 1, 3, 5; inner width C/8."""

    def __init__(self, in_channels: int, out_channels: int):
        inner = max(1, in_channels // 8)
        three_halves = max(1, 3 * inner // 2)
        super().__init__(in_channels, out_channels, 6 * inner)
        self.branches = nn.ModuleList(
            [
                nn.Sequential(
                    conv_bn(in_channels, 2 * inner, 1),
                    conv_bn(2 * inner, 2 * inner, 3, relu=False),
                ),
                nn.Sequential(
                    conv_bn(in_channels, inner, 1),
                    conv_bn(inner, 2 * inner, 3),
                    conv_bn(2 * inner, 2 * inner, 3, dilation=3, relu=False),
                ),
                nn.Sequential(
                    conv_bn(in_channels, inner, 1),
                    conv_bn(inner, three_halves, 3),
                    conv_bn(three_halves, 2 * inner, 3),
                    conv_bn(2 * inner, 2 * inner, 3, dilation=5, relu=False),
                ),
            ]
        )


class SimSPPF(nn.Module):
    """1x1 reduce to half the channels, three chained 5x5 max-pools, concat the four maps, 1x1 out.

    Two implementation details keep it cheap on a CPU without changing a single value:
    PyTorch's CPU max-pool is vectorised over channels only in channels-last layout (on NCHW
    tensors the three pools cost ~30x more and dominated RHPNet's CPU latency), and a 5x5 max
    is taken as a 1x5 max followed by a 5x1 max (10 comparisons per output instead of 25).
    The output has the layout of the input.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        hidden = in_channels // 2  # YOLOv6's default width (spec A7)
        self.cv1 = conv_bn(in_channels, hidden, 1)
        self.pool = nn.Sequential(
            nn.MaxPool2d(kernel_size=(1, 5), stride=1, padding=(0, 2)),
            nn.MaxPool2d(kernel_size=(5, 1), stride=1, padding=(2, 0)),
        )
        self.cv2 = conv_bn(4 * hidden, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layout = (
            torch.channels_last
            if x.is_contiguous(memory_format=torch.channels_last)
            else torch.contiguous_format
        )
        reduced = self.cv1(x).contiguous(memory_format=torch.channels_last)
        pooled1 = self.pool(reduced)
        pooled2 = self.pool(pooled1)
        pooled3 = self.pool(pooled2)
        joined = torch.cat([reduced, pooled1, pooled2, pooled3], dim=1)
        return self.cv2(joined).contiguous(memory_format=layout)
