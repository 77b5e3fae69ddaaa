"""Training checkpoints: one file that is both a usable model and a resumable training run.

``latest.pth`` is an ordinary ``rhpnet.checkpoints`` model file (the app and
``rhpnet.load_checkpoint`` open it directly) whose ``extra["training"]`` holds everything needed
to continue exactly where training stopped: optimiser, LR scheduler and AMP scaler states, the
Python / numpy / torch (and CUDA) RNG states of every rank, the epoch, the global step, the best
metric so far and the metric history. ``best.pth`` is the model alone, kept whenever the
validation metric improves. Writes are atomic (temporary file, fsync, rename), so a crash or a
``kill -9`` during a save leaves the previous file intact.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rhpnet.checkpoints import save_checkpoint
from rhpnet.errors import CheckpointError

log = logging.getLogger("training.checkpointing")

LATEST = "latest.pth"
BEST = "best.pth"
TRAINING_STATE_VERSION = 1


@dataclass
class TrainingProgress:
    """Counters that survive a restart."""

    epoch: int = 0  # completed epochs
    global_step: int = 0  # optimiser steps taken
    best_metric: float | None = None
    best_epoch: int = 0
    history: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"steps": [], "epochs": []}
    )


def capture_rng_state() -> dict[str, Any]:
    """This process's RNG states as plain data (``weights_only``-loadable)."""
    version, internal, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_checkpoint(
    path: Path,
    model: nn.Module,
    *,
    keypoint_names: tuple[str, ...],
    input_size: tuple[int, int],
    recipe: dict[str, Any],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    progress: TrainingProgress,
    rng_states: list[dict[str, Any]],
) -> Path:
    """Write the model plus the full training state atomically to ``path``."""
    training = {
        "version": TRAINING_STATE_VERSION,
        "epoch": progress.epoch,
        "global_step": progress.global_step,
        "best_metric": progress.best_metric,
        "best_epoch": progress.best_epoch,
        "history": progress.history,
        "optimizer": _optimizer_state_to_plain(optimizer.state_dict()),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": rng_states,
    }
    return save_checkpoint(
        path,
        model,
        keypoint_names=keypoint_names,
        input_size=input_size,
        recipe=recipe,
        extra={"training": training, "epoch": progress.epoch},
    )


@dataclass
class ResumeState:
    model_state: dict[str, torch.Tensor]
    arch: str
    progress: TrainingProgress
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any]
    rng: list[dict[str, Any]]
    recipe: dict[str, Any]


def read_training_checkpoint(path: Path) -> ResumeState:
    """Load ``latest.pth`` for ``--resume``; ``CheckpointError`` if it is not a training run."""
    from rhpnet import load_checkpoint

    loaded = load_checkpoint(path)
    extra = loaded.meta.extra
    training = extra.get("training")
    if not isinstance(training, dict) or training.get("version") != TRAINING_STATE_VERSION:
        raise CheckpointError(
            f"{path} holds a model but no training state to resume from; "
            "start a new run with --init instead"
        )
    progress = TrainingProgress(
        epoch=int(training["epoch"]),
        global_step=int(training["global_step"]),
        best_metric=training["best_metric"],
        best_epoch=int(training["best_epoch"]),
        history=training["history"],
    )
    return ResumeState(
        model_state=loaded.model.state_dict(),
        arch=loaded.meta.arch,
        progress=progress,
        optimizer=_optimizer_state_from_plain(training["optimizer"]),
        scheduler=training["scheduler"],
        scaler=training["scaler"],
        rng=training["rng"],
        recipe=loaded.meta.recipe,
    )


def remove_stale_partials(out_dir: Path) -> None:
    """Delete temporary files left by a save that was killed (they are never valid checkpoints)."""
    for stem in (Path(LATEST).stem, Path(BEST).stem):
        for partial in out_dir.glob(f".{stem}.*.partial.pth"):
            log.info("removing the unfinished save %s", partial.name)
            partial.unlink(missing_ok=True)


def _optimizer_state_to_plain(state: dict[str, Any]) -> dict[str, Any]:
    # Parameter indices are int keys; checkpoints hold str-keyed dicts only.
    return {**state, "state": {str(k): v for k, v in state["state"].items()}}


def _optimizer_state_from_plain(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "state": {int(k): v for k, v in state["state"].items()}}
