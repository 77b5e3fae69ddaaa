"""Checkpoints: our own format with metadata, and imports of public HRNet-W32 weights.

Our format is a ``torch.save`` dict (plain data + tensors, loadable with ``weights_only=True``)::

    {"format": "rhpnet-coach-checkpoint", "format_version": 1, "arch": "rhpnet_w32",
     "model_config": {...ModelConfig.to_dict()}, "keypoint_names": [...], "input_size": [256, 192],
     "heatmap_size": [64, 48], "recipe": {...}, "rhpnet_version": "0.1.0", "extra": {...},
     "state_dict": {...}}

``load_checkpoint`` also reads the public HRNet files, detecting the layout itself:
the official bare state dict (``pose_hrnet_w32_256x192.pth``), mmpose 0.x (``state_dict`` with
``backbone.*`` / ``keypoint_head.*``) and mmpose 1.x (``state_dict`` with ``backbone.*`` /
``head.*`` next to ``meta``), with or without a ``module.`` prefix and ``num_batches_tracked``.
Loading HRNet weights into RHPNet fills the trunk, warm-starts the extra stage-4 fuse outputs
from the previous module's (docs/rhpnet_spec.md §3.9) and leaves the RFSP head at its initialisation; the
result (``LoadedCheckpoint``) carries a ``report`` saying which tensors came from where.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

import rhpnet
from rhpnet.atomic import atomic_path
from rhpnet.errors import CheckpointError
from rhpnet.model import ARCHITECTURES, DEFAULT_INPUT_SIZE, ModelConfig, build_from_config
from rhpnet.model.blocks import init_weights
from rhpnet.safe_load import read_torch_file
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, MPII_KEYPOINT_NAMES, flip_pairs_from_names

FORMAT_MARKER = "rhpnet-coach-checkpoint"
FORMAT_VERSION = 1
PLAIN_HEAD_PREFIXES = ("final_layer.",)
RFSP_ONLY_PREFIXES = ("rfb_s.", "rfb.", "merge.", "sppf.")
RFSP_HEAD_PREFIXES = RFSP_ONLY_PREFIXES + PLAIN_HEAD_PREFIXES
_COUNTER_SUFFIX = ".num_batches_tracked"


@dataclass(frozen=True)
class CheckpointMeta:
    """What an estimator or trainer needs to know about a loaded model (``LoadedCheckpoint.meta``).

    ``input_size`` and ``heatmap_size`` are (height, width). ``flip_pairs`` are the left/right
    keypoint index pairs for the flip test (None when unknown). Public checkpoints carry no such
    metadata; they get the COCO 256x192 defaults they were trained with.
    """

    source_format: str
    arch: str
    num_keypoints: int
    keypoint_names: tuple[str, ...]
    input_size: tuple[int, int]
    heatmap_size: tuple[int, int]
    flip_pairs: tuple[tuple[int, int], ...] | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    rhpnet_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["keypoint_names"] = list(self.keypoint_names)
        data["input_size"] = list(self.input_size)
        data["heatmap_size"] = list(self.heatmap_size)
        if self.flip_pairs is not None:
            data["flip_pairs"] = [list(pair) for pair in self.flip_pairs]
        return data


@dataclass
class LoadReport:
    """Which model tensors were loaded, warm-started, or left at their initialisation.

    ``loaded`` and ``warm_started`` name model tensors; ``warm_started`` maps each to the
    checkpoint tensor it was copied from. ``ignored`` names checkpoint tensors not used (a public
    head when loading into RHPNet). BatchNorm ``num_batches_tracked`` counters never count as
    random: they do not affect the output.
    """

    source_format: str
    loaded: list[str] = field(default_factory=list)
    warm_started: dict[str, str] = field(default_factory=dict)
    random: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every model tensor came from the checkpoint and every tensor was used."""
        return not (self.random or self.ignored or self.warm_started)

    def summary(self) -> str:
        parts = [f"{len(self.loaded)} tensors loaded"]
        if self.warm_started:
            parts.append(f"{len(self.warm_started)} warm-started ({_group(self.warm_started)})")
        if self.random:
            parts.append(f"{len(self.random)} left at random init ({_group(self.random)})")
        if self.ignored:
            parts.append(f"{len(self.ignored)} checkpoint tensors ignored ({_group(self.ignored)})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _group(names: Iterable[str]) -> str:
    counts = Counter(_part_name(name) for name in names)
    return ", ".join(f"{part} x{count}" for part, count in counts.items())


def _part_name(name: str) -> str:
    pieces = name.split(".")
    if pieces[0].startswith("stage") and len(pieces) > 3 and pieces[2] == "fuse_layers":
        return ".".join(pieces[:4])
    return pieces[0]


def _unwrap(model: nn.Module) -> nn.Module:
    """The network inside DistributedDataParallel / DataParallel / torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None)
        if not isinstance(inner, nn.Module):
            inner = getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    *,
    keypoint_names: list[str] | tuple[str, ...],
    input_size: tuple[int, int],
    recipe: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    flip_pairs: list[tuple[int, int]] | tuple[tuple[int, int], ...] | None = None,
) -> Path:
    """Write ``model`` with its metadata atomically; the file loads with ``load_checkpoint``.

    ``input_size`` is the crop (height, width) the model was trained on. ``recipe`` (training
    settings) and ``extra`` (epoch, AP, ...) must be plain data: str, int, float, bool, None,
    lists/tuples and str-keyed dicts of those, or tensors, so the file loads with
    ``weights_only=True`` on any machine. ``flip_pairs`` (left/right index pairs) is needed only
    for keypoint sets other than COCO-17 and MPII-16, whose pairs are known by name.
    """
    network = _unwrap(model)
    config: ModelConfig | None = getattr(network, "config", None)
    if not isinstance(config, ModelConfig):
        raise TypeError("save_checkpoint needs a network built by rhpnet.build_model")
    names = [str(name) for name in keypoint_names]
    if len(names) != config.num_keypoints:
        raise ValueError(
            f"{len(names)} keypoint names given for a model with {config.num_keypoints} keypoints"
        )
    height, width = (int(v) for v in input_size)
    if height % 32 or width % 32:
        raise ValueError(f"input_size must be multiples of 32, got {(height, width)}")
    pairs = [[int(a), int(b)] for a, b in flip_pairs] if flip_pairs is not None else None
    if pairs and not all(0 <= i < len(names) for pair in pairs for i in pair):
        raise ValueError(f"flip_pairs {pairs} refer to keypoints outside 0..{len(names) - 1}")
    recipe = dict(recipe or {})
    extra = dict(extra or {})
    _require_plain_data(recipe, "recipe")
    _require_plain_data(extra, "extra")
    payload = {
        "format": FORMAT_MARKER,
        "format_version": FORMAT_VERSION,
        "arch": config.arch,
        "model_config": config.to_dict(),
        "keypoint_names": names,
        "flip_pairs": pairs,
        "input_size": [height, width],
        "heatmap_size": [height // 4, width // 4],
        "recipe": recipe,
        "rhpnet_version": rhpnet.__version__,
        "extra": extra,
        "state_dict": {k: v.detach().cpu() for k, v in network.state_dict().items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def _require_plain_data(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | int | float | bool | torch.Tensor):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _require_plain_data(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            _require_plain_data(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"{where} holds a {type(value).__name__}; checkpoints store plain data only "
        "(convert paths to str, arrays to lists)"
    )


@dataclass
class _Source:
    """A checkpoint reduced to our parameter names, with whatever metadata it had."""

    format: str
    state_dict: dict[str, torch.Tensor]
    config: ModelConfig | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.state_dict["transition1.0.0.weight"].shape[0])

    @property
    def has_rfsp(self) -> bool:
        return any(name.startswith(RFSP_ONLY_PREFIXES) for name in self.state_dict)

    @property
    def head_channels(self) -> int | None:
        weight = self.state_dict.get("final_layer.weight")
        return None if weight is None else int(weight.shape[0])


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A network in eval mode with what its file said about it and how its weights were loaded.

    Returned rather than attached to the module, so the metadata is typed and a model built in
    memory (``build_model``) is never mistaken for one read from a file.
    """

    model: nn.Module
    meta: CheckpointMeta
    report: LoadReport


def load_checkpoint(
    path: str | os.PathLike[str],
    arch: str | None = None,
    num_keypoints: int | None = None,
    map_location: Any = "cpu",
    *,
    backbone_only: bool = False,
) -> LoadedCheckpoint:
    """Build the network and load weights from any supported checkpoint, in eval mode.

    ``path`` may also be the name of downloaded public weights (``rhpnet-coach weights list``).
    ``arch`` defaults to what the checkpoint holds (our metadata, else HRNet of the checkpoint's
    width). ``num_keypoints`` defaults to the checkpoint's head; giving a different number is an
    error unless the head is not loaded anyway (``backbone_only=True``, or HRNet weights into
    RHPNet). Returns the model with its ``meta`` (``CheckpointMeta``) and load ``report``
    (``LoadReport``). ``map_location`` is the device the returned model lives on;
    files are always read onto the CPU first, so a checkpoint saved on a GPU loads anywhere.
    Raises ``CheckpointError`` with a one-line reason when the file cannot be used.
    """
    file = _resolve(path)
    source = _read_source(file)
    config = _target_config(source, arch, num_keypoints, backbone_only, file)
    model = build_from_config(config, initialise=False)
    report = _load_into(model, source, backbone_only, file)
    meta = _meta_for(source, config, file)
    return LoadedCheckpoint(model.to(map_location).eval(), meta, report)


def _resolve(path: str | os.PathLike[str]) -> Path:
    file = Path(path).expanduser()
    if file.exists():
        return file
    from rhpnet import download

    name = str(path)
    if name in download.WEIGHTS:
        cached = download.cached_file(name)
        if cached is None:
            raise CheckpointError(
                f"weights {name!r} are not downloaded yet: run 'rhpnet-coach weights download {name}'"
            )
        return cached
    raise CheckpointError(f"checkpoint file not found: {file}")


def _read_source(file: Path) -> _Source:
    raw = read_torch_file(file)
    if isinstance(raw, dict) and raw.get("format") == FORMAT_MARKER:
        return _our_format(raw, file)
    if isinstance(raw, dict) and isinstance(raw.get("state_dict"), dict):
        state_dict = raw["state_dict"]
    elif isinstance(raw, dict):
        state_dict = raw
    else:
        raise CheckpointError(
            f"{file} is not a model checkpoint (it holds a {type(raw).__name__}, not a state dict)"
        )
    tensors = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    if not tensors or not all(isinstance(k, str) for k in tensors):
        raise CheckpointError(f"{file} is not a model checkpoint (no named tensors in it)")
    names = _strip_prefix(tensors, "module.")
    source_format = _public_format(names)
    if source_format.startswith("mmpose"):
        names = _mmpose_to_official(names)
    source = _Source(source_format, names)
    _require_hrnet(source, file)
    return source


def _our_format(raw: dict[str, Any], file: Path) -> _Source:
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{file} was written by a newer rhpnet-coach (format version {version}); upgrade"
        )
    try:
        config = ModelConfig.from_dict(raw["model_config"])
        state_dict = dict(raw["state_dict"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{file} has damaged metadata ({error})") from error
    keys = ("keypoint_names", "flip_pairs", "input_size", "recipe", "extra")
    meta = {key: raw.get(key) for key in keys}
    meta["rhpnet_version"] = raw.get("rhpnet_version")
    source = _Source("rhpnet-coach", state_dict, config=config, meta=meta)
    _require_hrnet(source, file)
    return source


def _strip_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    if all(name.startswith(prefix) for name in tensors):
        return {name[len(prefix) :]: tensor for name, tensor in tensors.items()}
    return tensors


def _public_format(names: dict[str, torch.Tensor]) -> str:
    if any(name.startswith("backbone.") for name in names):
        if any(name.startswith("keypoint_head.") for name in names):
            return "mmpose-0.x"
        if any(name.startswith("head.") for name in names):
            return "mmpose-1.x"
        return "mmpose"
    if any(name.startswith(RFSP_ONLY_PREFIXES) for name in names):
        return "state-dict"
    return "official-hrnet"


def _mmpose_to_official(names: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = {}
    for name, tensor in names.items():
        for prefix in ("backbone.", "keypoint_head.", "head."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        renamed[name] = tensor
    return renamed


def _require_hrnet(source: _Source, file: Path) -> None:
    signature = (
        "layer1.0.conv1.weight",
        "transition1.0.0.weight",
        "stage2.0.fuse_layers.0.1.0.weight",
    )
    if not all(name in source.state_dict for name in signature):
        examples = ", ".join(list(source.state_dict)[:3])
        raise CheckpointError(
            f"wrong architecture: {file.name} does not hold an HRNet or RHPNet network "
            f"(its first tensors are {examples})"
        )


def _target_config(
    source: _Source, arch: str | None, num_keypoints: int | None, backbone_only: bool, file: Path
) -> ModelConfig:
    source_arch = source.config.arch if source.config else _public_arch(source)
    if arch is None and source_arch not in ARCHITECTURES:
        raise CheckpointError(
            f"wrong architecture: {file.name} holds an HRNet of width {source.width}; "
            f"supported: {', '.join(ARCHITECTURES)} (pass arch= for a custom build)"
        )
    arch = arch or source_arch
    if arch not in ARCHITECTURES:
        raise CheckpointError(
            f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}"
        )
    target = ARCHITECTURES[arch]
    if source.config and source.config.arch == arch:
        target = source.config
    if target.widths[0] != source.width:
        raise CheckpointError(
            f"wrong architecture: {file.name} holds a width-{source.width} network "
            f"({source_arch}), not {arch} (width {target.widths[0]})"
        )
    if source.has_rfsp and target.head == "plain" and not backbone_only:
        raise CheckpointError(
            f"wrong architecture: {file.name} holds {source_arch} weights (RFSP head), not {arch}; "
            "load it without arch, or with backbone_only=True to keep only the trunk"
        )
    head_loaded = not backbone_only and (target.head == "rfsp") == source.has_rfsp
    found = source.head_channels
    expected = num_keypoints
    if head_loaded and found is not None:
        if expected is None and _combined_target_keypoints(found) and target.head == "plain":
            raise CheckpointError(
                f"{file.name} has a {found}-channel UDP CombinedTarget head (3 maps per keypoint "
                f"for {found // 3} keypoints), not plain heatmaps; load it as rhpnet_w32 or with "
                "backbone_only=True"
            )
        if expected is not None and expected != found:
            raise CheckpointError(
                f"wrong number of keypoints: {file.name} has {found}, expected {expected} "
                "(use backbone_only=True to load only the trunk and train a new head)"
            )
        expected = found
    if expected is None and source.config:
        expected = source.config.num_keypoints
    if expected is None:
        plain_head = found is not None and not _combined_target_keypoints(found)
        expected = found if plain_head else len(COCO_KEYPOINT_NAMES)
    return target.replace(num_keypoints=expected)


def _combined_target_keypoints(channels: int) -> bool:
    return channels in (3 * len(COCO_KEYPOINT_NAMES), 3 * len(MPII_KEYPOINT_NAMES))


def _public_arch(source: _Source) -> str:
    """The table name a bare HRNet/RHPNet state dict most likely came from (may not exist)."""
    family = "rhpnet" if source.has_rfsp else "hrnet"
    return f"{family}_w{source.width}"


def _load_into(model: nn.Module, source: _Source, backbone_only: bool, file: Path) -> LoadReport:
    """Fill ``model`` (allocated, not initialised) from the checkpoint; only the tensors the file
    does not provide get HRNet's initialisation, instead of initialising all and overwriting."""
    config: ModelConfig = model.config
    head_prefixes = RFSP_HEAD_PREFIXES if config.head == "rfsp" else PLAIN_HEAD_PREFIXES
    load_head = not backbone_only and (config.head == "rfsp") == source.has_rfsp
    target = model.state_dict()
    checkpoint = source.state_dict
    report = LoadReport(source.format)
    new_state = {}
    fresh: list[str] = []
    missing: list[str] = []
    last = config.modules_per_stage[2] - 1
    for name, allocated in target.items():
        counter = name.endswith(_COUNTER_SUFFIX)
        new_layer = name.startswith(head_prefixes) and not load_head
        if name in checkpoint and not new_layer:
            new_state[name] = _checked(name, checkpoint[name], allocated, file)
            report.loaded.append(name)
            continue
        if not source.has_rfsp and _is_extra_fuse(name, last):
            origin = _warm_start_source(name, last)
            if origin in checkpoint:
                new_state[name] = _checked(name, checkpoint[origin], allocated, file)
                report.warm_started[name] = origin
                continue
            new_layer = True
        if not new_layer and not counter:
            missing.append(name)
        elif not counter:
            report.random.append(name)
        fresh.append(name)
    if missing:
        raise CheckpointError(
            f"{file.name} lacks {len(missing)} tensors of {config.arch}, e.g. {missing[0]}: "
            "wrong architecture or an incomplete checkpoint"
        )
    used = set(report.loaded) | set(report.warm_started.values())
    unused = [name for name in checkpoint if name not in used]
    # A network never loads tensors of another head; an RHPNet trunk's extra fuse outputs are
    # simply unused by HRNet. Anything else unused means a different network.
    unexpected = [
        n for n in unused if not n.startswith(RFSP_HEAD_PREFIXES) and not _is_extra_fuse(n, last)
    ]
    if unexpected:
        raise CheckpointError(
            f"wrong architecture: {file.name} has {len(unexpected)} tensors {config.arch} does "
            f"not have, e.g. {unexpected[0]}"
        )
    report.ignored = unused
    # Initialising a whole layer also resets tensors the file provides; those are loaded after.
    for owner in {name.rpartition(".")[0] for name in fresh}:
        init_weights(model.get_submodule(owner))
    initialised = model.state_dict()
    new_state.update({name: initialised[name] for name in fresh})
    model.load_state_dict(new_state)
    return report


def _is_extra_fuse(name: str, last_module: int) -> bool:
    """Tensors of the fuse outputs 1-3 that only RHPNet's last stage-4 module builds (docs/rhpnet_spec.md §3.2)."""
    prefix = f"stage4.{last_module}.fuse_layers."
    return name.startswith(prefix) and not name.startswith(prefix + "0.")


def _warm_start_source(name: str, last_module: int) -> str | None:
    """stage4.<last>.fuse_layers.i.* <- stage4.<last-1>.fuse_layers.i.* (same shapes, docs/rhpnet_spec.md §3.9)."""
    if last_module < 1:
        return None
    return name.replace(f"stage4.{last_module}.", f"stage4.{last_module - 1}.", 1)


def _checked(name: str, tensor: torch.Tensor, initial: torch.Tensor, file: Path) -> torch.Tensor:
    if tuple(tensor.shape) != tuple(initial.shape):
        raise CheckpointError(
            f"shape mismatch in {file.name}: {name} is {tuple(tensor.shape)} in the checkpoint, "
            f"{tuple(initial.shape)} in the model"
        )
    return tensor


def _meta_for(source: _Source, config: ModelConfig, file: Path) -> CheckpointMeta:
    meta = source.meta
    names = meta.get("keypoint_names")
    if not isinstance(names, list | tuple) or len(names) != config.num_keypoints:
        names = default_keypoint_names(config.num_keypoints)
    names = tuple(str(name) for name in names)
    pairs = meta.get("flip_pairs") if names == tuple(meta.get("keypoint_names") or ()) else None
    if pairs is None:
        pairs = flip_pairs_from_names(names) or None
    input_size = meta.get("input_size") or DEFAULT_INPUT_SIZE
    height, width = (int(v) for v in input_size)
    return CheckpointMeta(
        source_format=source.format,
        arch=config.arch,
        num_keypoints=config.num_keypoints,
        keypoint_names=names,
        input_size=(height, width),
        heatmap_size=(height // 4, width // 4),
        flip_pairs=None if pairs is None else tuple((int(a), int(b)) for a, b in pairs),
        recipe=dict(meta.get("recipe") or {}),
        rhpnet_version=meta.get("rhpnet_version"),
        extra=dict(meta.get("extra") or {}),
        path=str(file),
    )


def default_keypoint_names(num_keypoints: int) -> tuple[str, ...]:
    """COCO-17 or MPII-16 names by count, else ``keypoint_0`` ... (public files carry none)."""
    if num_keypoints == len(COCO_KEYPOINT_NAMES):
        return COCO_KEYPOINT_NAMES
    if num_keypoints == len(MPII_KEYPOINT_NAMES):
        return MPII_KEYPOINT_NAMES
    return tuple(f"keypoint_{index}" for index in range(num_keypoints))
