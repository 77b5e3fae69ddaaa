"""Training configuration: the paper's recipe as plain data, read from TOML.

A config is a set of small dataclasses, one per TOML table. Unknown keys are an error (a typo in
``lr`` must not silently train with the default), and command-line overrides go through the same
validation. Named configs live in ``training/configs/*.toml``; ``--tiny`` shrinks any of them into
a few-minute smoke run on a laptop CPU.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rhpnet.errors import UserFacingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(UserFacingError):
    """A config file or override is malformed or names an unknown setting."""


@dataclass
class ModelConfig:
    arch: str = "rhpnet_w32"
    num_keypoints: int = 17
    input_height: int = 256
    input_width: int = 192
    sigma: float = 2.0
    # Checkpoint to start from: ours, or an official HRNet / mmpose file (head not loaded).
    init: str = ""

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width), the order the codec and checkpoints use."""
        return self.input_height, self.input_width

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(height, width) of the network's output, a quarter of the input."""
        return self.input_height // 4, self.input_width // 4


@dataclass
class DataConfig:
    # "coco" (COCO-format keypoints: COCO 2017, Running Human, our dev sets), "mpii", or "auto".
    format: str = "auto"
    # Paths relative to --data / --val-data; empty means "detect the usual layout".
    train_annotations: str = ""
    train_images: str = ""
    val_annotations: str = ""
    val_images: str = ""
    # COCO results JSON with person boxes for evaluation (HRNet/mmpose detections); empty = GT boxes.
    val_detections: str = ""
    detection_score_threshold: float = 0.0
    # Check every image file exists and has a readable header before training starts.
    check_images: bool = True
    workers: int = 4
    # Use only the first N training/validation instances (0 = all); for smoke runs and tests.
    max_train_instances: int = 0
    max_val_instances: int = 0


@dataclass
class AugmentConfig:
    """Magnitudes of docs/rhpnet_spec.md §10 (HRNet defaults; RandomErasing / GridMask as in mmpose)."""

    scale_factor: float = 0.35
    rotation_factor: float = 45.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_joints: int = 8
    padding: float = 1.25
    color_jitter_prob: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    random_erasing_prob: float = 0.5
    random_erasing_area: list[float] = field(default_factory=lambda: [0.02, 0.33])
    random_erasing_aspect: list[float] = field(default_factory=lambda: [0.3, 3.3])
    gridmask_prob: float = 0.5
    gridmask_unit: list[int] = field(default_factory=lambda: [10, 40])
    gridmask_ratio: float = 0.5


@dataclass
class OptimConfig:
    lr: float = 1e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    epochs: int = 210
    milestones: list[int] = field(default_factory=lambda: [170, 200])
    gamma: float = 0.1
    # Linear warm-up over the first iterations (mmpose uses 500 from 1e-3); 0 disables it.
    warmup_iters: int = 0
    warmup_factor: float = 1e-3
    # Total batch over all processes (the paper's 32); each of N processes takes batch/N.
    batch_size: int = 32
    # Clip the gradient norm to this value; 0 disables clipping.
    grad_clip: float = 0.0


@dataclass
class TrainConfig:
    seed: int = 0
    # "bf16", "fp16", "off", or "auto" (bf16 where the GPU supports it, else fp16). CPU: always off.
    amp: str = "auto"
    channels_last: bool = True
    # BatchNorm: "train" (per-process statistics), "sync" (SyncBatchNorm across GPUs), or
    # "frozen" (running statistics fixed; useful to fine-tune with small batches).
    batchnorm: str = "train"
    log_every: int = 20
    eval_every: int = 10
    # Write latest.pth every N epochs (and always after the last one).
    checkpoint_every: int = 1
    tensorboard: bool = True
    preview_images: int = 4
    # Stop after this many optimiser steps in total (0 = run all epochs); smoke runs and tests.
    max_steps: int = 0


@dataclass
class EvalConfig:
    flip_test: bool = True
    batch_size: int = 32
    # "auto" picks OKS AP for COCO-format sets and PCKh for MPII.
    metric: str = "auto"


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    name: str = "custom"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> None:
        allowed = {
            ("data", "format"): {"auto", "coco", "mpii"},
            ("train", "amp"): {"auto", "bf16", "fp16", "off"},
            ("train", "batchnorm"): {"train", "sync", "frozen"},
            ("eval", "metric"): {"auto", "coco", "pckh"},
        }
        for (section, key), choices in allowed.items():
            value = getattr(getattr(self, section), key)
            if value not in choices:
                raise ConfigError(
                    f"{section}.{key} = {value!r} is not one of {', '.join(sorted(choices))}"
                )
        if self.model.input_height % 32 or self.model.input_width % 32:
            # The lowest HRNet branch works at 1/32 of the input.
            raise ConfigError("model.input_height and input_width must be multiples of 32")
        for (section, key), lowest in _LOWEST.items():
            value = getattr(getattr(self, section), key)
            if value < lowest:
                raise ConfigError(f"{section}.{key} = {value} must be at least {lowest}")
        if sorted(self.optim.milestones) != list(self.optim.milestones):
            raise ConfigError("optim.milestones must be increasing")


# Counts the loop divides by or hands to torch: out of range they fail deep inside a run.
_LOWEST: dict[tuple[str, str], int] = {
    ("optim", "batch_size"): 1,
    ("optim", "epochs"): 1,
    ("optim", "warmup_iters"): 0,
    ("train", "log_every"): 1,
    ("train", "eval_every"): 1,
    ("train", "checkpoint_every"): 1,
    ("train", "preview_images"): 0,
    ("train", "max_steps"): 0,
    ("train", "seed"): 0,
    ("eval", "batch_size"): 1,
    ("data", "workers"): 0,
    ("data", "max_train_instances"): 0,
    ("data", "max_val_instances"): 0,
}


def available_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def load_config(name_or_path: str, overrides: list[str] | None = None) -> Config:
    """Read a named config (``coco_256x192``) or a TOML file, then apply ``section.key=value``."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = CONFIG_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(
            f"no config {name_or_path!r}: give a TOML file or one of {', '.join(available_configs())}"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    raw.setdefault("name", path.stem)
    for override in overrides or []:
        _apply_override(raw, override)
    config = _build(Config, raw, "")
    config.validate()
    return config


def tiny_preset(config: Config) -> Config:
    """Narrow network, small input and a short run: a smoke test that finishes in minutes on CPU."""
    config.model.arch = "rhpnet_tiny" if config.model.arch.startswith("rhpnet") else "hrnet_tiny"
    square = config.model.input_height == config.model.input_width
    config.model.input_height = 128
    config.model.input_width = 128 if square else 96
    config.model.init = ""
    config.optim.epochs = min(config.optim.epochs, 3)
    config.optim.milestones = [m for m in (2,) if m < config.optim.epochs]
    config.optim.batch_size = min(config.optim.batch_size, 8)
    config.optim.warmup_iters = 0
    config.train.eval_every = 1
    config.train.log_every = 1
    config.train.max_steps = config.train.max_steps or 30
    config.data.workers = min(config.data.workers, 2)
    config.data.max_train_instances = config.data.max_train_instances or 64
    config.data.max_val_instances = config.data.max_val_instances or 32
    config.eval.batch_size = min(config.eval.batch_size, 16)
    config.name = f"{config.name}+tiny"
    return config


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, text = override.partition("=")
    parts = key.strip().split(".")
    if not sep or len(parts) != 2 or not all(parts):
        raise ConfigError(f"override {override!r} must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word such as a path or "bf16"
    raw.setdefault(parts[0], {})
    if not isinstance(raw[parts[0]], dict):
        raise ConfigError(f"override {override!r}: {parts[0]} is not a section")
    raw[parts[0]][parts[1]] = value


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'} must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown setting {where}{unknown[0]!r} (valid: {', '.join(sorted(fields))})"
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        default = (
            fields[name].default_factory() if _has_factory(fields[name]) else fields[name].default
        )
        if dataclasses.is_dataclass(default):
            values[name] = _build(type(default), value, f"{where}{name}.")
        else:
            values[name] = _coerce(value, default, f"{where}{name}")
    return cls(**values)


def _has_factory(f: dataclasses.Field) -> bool:
    return f.default_factory is not dataclasses.MISSING  # type: ignore[misc]


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Accept the TOML value if it has the default's type (ints where floats are expected too)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{where} = {value!r}: expected {type(default).__name__}")
    return value
