"""RHPNet: HRNet trunk with multi-scale stage-4 output and the RFSP head (docs/rhpnet_spec.md §3.0).

Forward pass (S = stage-1 output, F_b = stage-4 branch outputs, b = 1..4)::

    Z_b = RFB_b(RFBS_b(F_b))                          per-branch receptive-field blocks
    D   = ReLU(Z_1 + sum_b Up(CB_1x1(Z_b)))            HRNet-style merge to 1/4
    R   = D + F_1                                      residual around the new head
    H   = final_1x1(SimSPPF(concat(R, S)))             shallow+deep fusion -> K heatmaps

The trunk keeps HRNet's parameter names, so public HRNet weights load into it by name; the
only new trunk tensors are ``stage4.<last>.fuse_layers.1-3`` (the extra fuse outputs).
"""

from __future__ import annotations

import torch
from torch import nn

from rhpnet.model.config import ModelConfig
from rhpnet.model.hrnet import HRNetTrunk, fuse, fuse_layers
from rhpnet.model.rfsp import RFB, RFBS, SimSPPF


class RHPNet(HRNetTrunk):
    def __init__(self, config: ModelConfig):
        super().__init__(config, multi_scale_output=True)
        widths = config.widths
        base = widths[0]
        self.rfb_s = nn.ModuleList(RFBS(width, width) for width in widths)
        self.rfb = nn.ModuleList(RFB(width, width) for width in widths)
        # Spec §3.5: the RFB outputs merge to 1/4 by HRNet's own fuse rule.
        self.merge = fuse_layers(widths, target=0)
        self.sppf = SimSPPF(base + config.shallow_channels, base)
        self.final_layer = nn.Conv2d(base, config.num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow, features = self.forward_features(x)
        refined = [
            rfb(rfb_s(feature))
            for rfb_s, rfb, feature in zip(self.rfb_s, self.rfb, features, strict=True)
        ]
        residual = fuse(self.merge, refined) + features[0]
        return self.final_layer(self.sppf(torch.cat([residual, shallow], dim=1)))
