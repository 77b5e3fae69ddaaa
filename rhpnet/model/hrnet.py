"""HRNet trunk (stem, stage 1, transitions, stages 2-4) and the plain HRNet pose network.

Structure and parameter names follow the official HRNet code (leoxiaobin/deep-high-resolution-
net.pytorch, ``pose_hrnet.py``), which mmpose's backbone reproduces name for name, so public
HRNet checkpoints load into these modules with ``load_state_dict`` unchanged. Spec §2.
"""

from __future__ import annotations

import torch
from torch import nn

from rhpnet.model.blocks import BasicBlock, Bottleneck, conv_bn, make_blocks
from rhpnet.model.config import ModelConfig


class HighResolutionModule(nn.Module):
    """Parallel branches of BasicBlocks followed by all-to-all multi-resolution fusion.

    ``fuse_layers[i][j]`` maps branch ``j`` to output ``i`` (docs/rhpnet_spec.md §2.3): identity for j == i,
    1x1 conv-BN then nearest upsampling for j > i, a chain of stride-2 3x3 convs for j < i.
    With ``multi_scale_output=False`` only the highest-resolution output (i = 0) is built.
    """

    def __init__(
        self, widths: tuple[int, ...], blocks_per_branch: int, multi_scale_output: bool = True
    ):
        super().__init__()
        self.branches = nn.ModuleList(
            make_blocks(BasicBlock, width, width, blocks_per_branch) for width in widths
        )
        num_outputs = len(widths) if multi_scale_output else 1
        self.fuse_layers = nn.ModuleList(
            fuse_layers(widths, target) for target in range(num_outputs)
        )

    def forward(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        features = [branch(x) for branch, x in zip(self.branches, inputs, strict=True)]
        return [fuse(layers, features) for layers in self.fuse_layers]


def fuse_layers(widths: tuple[int, ...], target: int) -> nn.ModuleList:
    """The layers bringing every branch to branch ``target``'s width and resolution (docs/rhpnet_spec.md §2.3)."""
    return nn.ModuleList(_fuse_layer(widths, source, target) for source in range(len(widths)))


def fuse(layers: nn.ModuleList, features: list[torch.Tensor]) -> torch.Tensor:
    """HRNet's fusion: ReLU of the sum of every branch brought to one resolution by ``layers``.

    The ReLU works in place on the sum, a fresh tensor (there are always at least two branches).
    """
    total = layers[0](features[0])
    for layer, feature in zip(layers[1:], features[1:], strict=True):
        total = total + layer(feature)
    return torch.relu_(total)


def _fuse_layer(widths: tuple[int, ...], source: int, target: int) -> nn.Module:
    if source == target:
        return nn.Identity()
    if source > target:
        return nn.Sequential(
            *conv_bn(widths[source], widths[target], 1, relu=False),
            nn.Upsample(scale_factor=2 ** (source - target), mode="nearest"),
        )
    steps = target - source
    chain = [conv_bn(widths[source], widths[source], 3, stride=2) for _ in range(steps - 1)]
    chain.append(conv_bn(widths[source], widths[target], 3, stride=2, relu=False))
    return nn.Sequential(*chain)


def _transition(previous: tuple[int, ...], current: tuple[int, ...]) -> nn.ModuleList:
    """Adapt the branches of one stage to the next; new branches come from the lowest one."""
    layers: list[nn.Module] = []
    for i, width in enumerate(current):
        if i < len(previous):
            layers.append(nn.Identity() if previous[i] == width else conv_bn(previous[i], width, 3))
        else:
            steps = i + 1 - len(previous)
            chain = [
                conv_bn(previous[-1], width if step == steps - 1 else previous[-1], 3, stride=2)
                for step in range(steps)
            ]
            layers.append(nn.Sequential(*chain))
    return nn.ModuleList(layers)


class HRNetTrunk(nn.Module):
    """Stem, stage 1 and stages 2-4 of HRNet; subclasses add a head.

    Constructors only lay out the layers; ``rhpnet.build_model`` builds them on the meta device
    and applies HRNet's initialisation once the memory exists (initialising meta tensors here
    would cost time and, on first use, an import of torch's compiler stack, for nothing).

    ``forward_features`` returns the stage-1 output (the spec's shallow features S) and the
    stage-4 outputs: only the 1/4 map for HRNet, all four resolutions when the last module is
    built with ``multi_scale_output=True`` (RHPNet, docs/rhpnet_spec.md §3.2).
    """

    def __init__(self, config: ModelConfig, multi_scale_output: bool):
        super().__init__()
        self.config = config
        stem = config.stem_channels
        self.conv1 = nn.Conv2d(3, stem, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.conv2 = nn.Conv2d(stem, stem, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_blocks(Bottleneck, stem, config.stage1_planes, config.stage1_blocks)

        widths = config.widths
        self.transition1 = _transition((config.shallow_channels,), widths[:2])
        self.stage2 = self._stage(widths[:2], config.modules_per_stage[0], True)
        self.transition2 = _transition(widths[:2], widths[:3])
        self.stage3 = self._stage(widths[:3], config.modules_per_stage[1], True)
        self.transition3 = _transition(widths[:3], widths)
        self.stage4 = self._stage(widths, config.modules_per_stage[2], multi_scale_output)

    def _stage(
        self, widths: tuple[int, ...], num_modules: int, multi_scale_output: bool
    ) -> nn.Sequential:
        blocks = self.config.blocks_per_branch
        modules = [
            HighResolutionModule(widths, blocks, multi_scale_output or index < num_modules - 1)
            for index in range(num_modules)
        ]
        return nn.Sequential(*modules)

    @property
    def arch(self) -> str:
        return self.config.arch

    @property
    def num_keypoints(self) -> int:
        return self.config.num_keypoints

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if x.shape[-2] % 32 or x.shape[-1] % 32:
            raise ValueError(
                f"input height and width must be multiples of 32, got {tuple(x.shape[-2:])}"
            )
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        shallow = self.layer1(x)
        features = self.stage2([layer(shallow) for layer in self.transition1])
        features = self.stage3(_apply_transition(self.transition2, features))
        features = self.stage4(_apply_transition(self.transition3, features))
        return shallow, features


def _apply_transition(layers: nn.ModuleList, features: list[torch.Tensor]) -> list[torch.Tensor]:
    return [
        layer(features[i] if i < len(features) else features[-1]) for i, layer in enumerate(layers)
    ]


class HRNet(HRNetTrunk):
    """HRNet pose network: trunk + 1x1 ``final_layer`` on the 1/4 output -> K heatmaps."""

    def __init__(self, config: ModelConfig):
        super().__init__(config, multi_scale_output=False)
        self.final_layer = nn.Conv2d(config.widths[0], config.num_keypoints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, features = self.forward_features(x)
        return self.final_layer(features[0])
