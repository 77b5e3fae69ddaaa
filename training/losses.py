"""Heatmap loss of HRNet (``JointsMSELoss`` with target weights, docs/rhpnet_spec.md §5)."""

from __future__ import annotations

import torch
from torch import nn


class JointsMSELoss(nn.Module):
    """L = (1/K) sum_k 1/2 mean_{batch, pixels} (w_k * pred_k - w_k * target_k)^2.

    Joints without a label (or whose Gaussian falls outside the heatmap) have w_k = 0, so the
    network is neither rewarded nor punished for what it predicts there. Computed in float32
    even under autocast: squared errors of small heatmap values underflow in half precision.
    """

    def forward(
        self, predicted: torch.Tensor, target: torch.Tensor, target_weight: torch.Tensor
    ) -> torch.Tensor:
        weight = target_weight.float().reshape(*target_weight.shape[:2], 1, 1)
        diff = (predicted.float() - target.float()) * weight
        # mean over batch and pixels per joint, then over joints: the same as a global mean.
        return 0.5 * diff.pow(2).mean()
