"""The MAC/parameter counter: hand-derived single layers, then the spec's exact model numbers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rhpnet import build_model
from rhpnet.profile import count_params_and_macs


def _macs(layer: nn.Module, size: tuple[int, int], in_channels: int) -> int:
    return count_params_and_macs(layer, size, in_channels=in_channels).macs


def test_plain_conv():
    # 8 x 10 x 10 outputs, each 3 input channels x 3 x 3 taps.
    assert _macs(nn.Conv2d(3, 8, 3, padding=1), (10, 10), 3) == 8 * 10 * 10 * 3 * 3 * 3 == 21_600


def test_strided_conv_counts_only_the_outputs_it_makes():
    # Stride 2 on 16 x 16 with padding 1 gives 8 x 8 outputs.
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False)
    assert _macs(conv, (16, 16), 4) == 6 * 8 * 8 * 4 * 9 == 13_824


def test_dilation_changes_only_the_output_size():
    # Dilation 2, no padding: effective kernel 5, so 16 -> 12; still 9 taps per output.
    conv = nn.Conv2d(4, 4, 3, dilation=2)
    assert _macs(conv, (16, 16), 4) == 4 * 12 * 12 * 4 * 9 == 20_736
    same = nn.Conv2d(4, 4, 3, dilation=2, padding=2)
    assert _macs(same, (16, 16), 4) == 4 * 16 * 16 * 4 * 9 == 36_864


def test_grouped_and_non_square_convs():
    # Groups 4: each output sees 8 / 4 = 2 input channels.
    assert _macs(nn.Conv2d(8, 16, 3, padding=1, groups=4), (8, 8), 8) == 16 * 64 * 2 * 9 == 18_432
    # Depthwise: one input channel per output.
    assert _macs(nn.Conv2d(8, 8, 3, padding=1, groups=8), (8, 8), 8) == 8 * 64 * 9 == 4_608
    # A 3x1 kernel with (1, 0) padding keeps 6 x 5; 3 taps per input channel.
    assert _macs(nn.Conv2d(2, 5, (3, 1), padding=(1, 0)), (6, 5), 2) == 5 * 30 * 2 * 3 == 900


class _Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4 * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


def test_linear_and_per_part_breakdown():
    counts = count_params_and_macs(_Classifier(), (2, 2))
    assert counts.macs_by_part == {"conv": 4 * 4 * 3, "fc": 10 * 16}
    assert counts.macs == 48 + 160
    assert counts.params == (4 * 3 + 4) + (16 * 10 + 10)
    assert counts.params_by_part == {"conv": 16, "fc": 170}


def test_bn_activation_pooling_and_bias_add_no_macs_but_bn_adds_params():
    block = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=True),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(5, stride=1, padding=2),
        nn.Upsample(scale_factor=2),
    )
    counts = count_params_and_macs(block, (10, 10))
    assert counts.macs == 21_600
    # conv weight 216 + bias 8, BN gamma/beta 16; running statistics are buffers, not counted.
    assert counts.params == 216 + 8 + 16


def test_counting_leaves_the_model_untouched():
    model = build_model("hrnet_tiny").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    count_params_and_macs(model, (64, 64))
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(module._forward_hooks for module in model.modules())


@pytest.mark.parametrize(
    ("arch", "num_keypoints", "size", "params", "macs", "gflops"),
    [
        ("hrnet_w32", 17, (256, 192), 28_536_113, 7_645_003_776, 7.12),
        ("rhpnet_w32", 17, (256, 192), 30_308_641, 8_051_785_728, 7.50),
        ("hrnet_w32", 16, (256, 256), 28_536_080, 10_193_207_296, 9.49),
        ("rhpnet_w32", 16, (256, 256), 30_308_608, 10_735_583_232, 10.00),
    ],
)
def test_spec_numbers_exactly(built_model, arch, num_keypoints, size, params, macs, gflops):
    counts = count_params_and_macs(built_model(arch, num_keypoints), size)
    assert (counts.params, counts.macs, counts.gflops_paper) == (params, macs, gflops)
    if (arch, num_keypoints) == ("hrnet_w32", 17):
        # Spec §4.3 per-part table.
        parts = counts.macs_by_part
        assert parts["conv1"] + parts["conv2"] == 134_479_872
        assert parts["layer1"] == 868_220_928 and parts["stage3"] == 2_903_506_944
        assert parts["stage4"] == 2_900_361_216 and parts["final_layer"] == 1_671_168
    if (arch, num_keypoints) == ("rhpnet_w32", 17):
        # Spec §4.4: RFB-S / RFB cost 17,965,056 / 15,261,696 MACs on every branch.
        parts = counts.macs_by_part
        assert parts["rfb_s"] == 4 * 17_965_056 and parts["rfb"] == 4 * 15_261_696
        assert parts["sppf"] == 127_401_984 + 56_623_104 and parts["merge"] == 2_752_512
        assert parts["stage4"] == 2_900_361_216 + 16_515_072 + 29_884_416 + 40_697_856
        assert counts.params_by_part["rfb_s"] == 501_700 and counts.params_by_part["rfb"] == 426_060
