"""Plain-data description of a network: everything needed to rebuild it, nothing else.

A checkpoint stores ``ModelConfig.to_dict()`` next to its weights, so a file saved with custom
widths or keypoint count rebuilds the exact network without knowing the architecture table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

# (height, width) of the crops the COCO networks are trained on, and of every public HRNet-W32
# checkpoint; the default wherever a model carries no input size of its own.
DEFAULT_INPUT_SIZE: tuple[int, int] = (256, 192)

HeadKind = Literal["plain", "rfsp"]
HEADS: tuple[str, ...] = ("plain", "rfsp")


@dataclass(frozen=True)
class ModelConfig:
    """Widths and depths of an HRNet trunk plus the head on top of it.

    ``head="plain"`` is HRNet's 1x1 ``final_layer``; ``head="rfsp"`` is RHPNet's RFSP head
    (multi-scale stage-4 output, per-branch RFB-S -> RFB, merge, residual, shallow concat,
    SimSPPF, final 1x1).
    """

    arch: str
    head: HeadKind
    num_keypoints: int = 17
    stem_channels: int = 64
    stage1_planes: int = 64
    stage1_blocks: int = 4
    widths: tuple[int, int, int, int] = (32, 64, 128, 256)
    blocks_per_branch: int = 4
    modules_per_stage: tuple[int, int, int] = (1, 4, 3)

    def __post_init__(self) -> None:
        # Lists arrive from JSON-like checkpoint metadata; store tuples so configs compare equal.
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "modules_per_stage", tuple(int(m) for m in self.modules_per_stage))
        problems = []
        if self.head not in HEADS:
            problems.append(f"head must be one of {HEADS}, got {self.head!r}")
        if len(self.widths) != 4 or min(self.widths) < 8:
            problems.append(f"widths must be 4 branch widths of at least 8, got {self.widths}")
        if len(self.modules_per_stage) != 3 or min(self.modules_per_stage) < 1:
            problems.append(
                f"modules_per_stage must be 3 counts >= 1, got {self.modules_per_stage}"
            )
        for name in ("num_keypoints", "stem_channels", "stage1_planes", "stage1_blocks"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        if self.blocks_per_branch < 1:
            problems.append(f"blocks_per_branch must be positive, got {self.blocks_per_branch}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def shallow_channels(self) -> int:
        """Channels of the stage-1 output (Bottleneck expansion 4): the spec's shallow features S."""
        return self.stage1_planes * 4

    def replace(self, **changes: Any) -> ModelConfig:
        unknown = self._unknown_fields(changes)
        if unknown:
            valid = sorted(field.name for field in dataclasses.fields(self))
            raise TypeError(f"unknown model option(s) {unknown}; valid: {valid}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Only str/int/list values, so it survives ``torch.load(weights_only=True)`` and JSON."""
        data = dataclasses.asdict(self)
        data["widths"] = list(self.widths)
        data["modules_per_stage"] = list(self.modules_per_stage)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        unknown = cls._unknown_fields(data)
        if unknown:
            raise ValueError(f"unknown model config field(s) {unknown}")
        return cls(**data)

    @classmethod
    def _unknown_fields(cls, names: Iterable[str]) -> list[str]:
        return sorted(set(names) - {field.name for field in dataclasses.fields(cls)})
