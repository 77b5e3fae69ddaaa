"""The training loop: data, model, optimiser, AMP, DDP, validation, checkpoints and logs.

One ``fit`` call trains a run described by a ``Config`` into an output folder::

    OUT/latest.pth      model + full training state, rewritten atomically after every epoch
    OUT/best.pth        the model with the best validation metric so far
    OUT/metrics.json    loss per logged step, loss / lr / metrics per epoch
    OUT/config.json     the resolved configuration
    OUT/train.log       the log lines printed during training
    OUT/tensorboard/    scalars (loss, lr, AP) and prediction images

Launched by ``torchrun`` it runs one process per GPU with DistributedDataParallel; rank 0 alone
logs and writes files. ``--resume`` continues from ``latest.pth`` exactly: the per-sample
augmentation seeds, the epoch-seeded shuffling and the restored optimiser/scheduler/scaler/RNG
states make the resumed run reproduce the uninterrupted one.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

import rhpnet
from rhpnet.atomic import atomic_write_text
from rhpnet.checkpoints import save_checkpoint
from rhpnet.datasets.keypoint_set import KeypointSet
from rhpnet.errors import UserFacingError
from training import distributed
from training.checkpointing import (
    BEST,
    LATEST,
    TrainingProgress,
    capture_rng_state,
    read_training_checkpoint,
    remove_stale_partials,
    restore_rng_state,
    save_training_checkpoint,
)
from training.config import Config
from training.datasets import find_split, load_person_detections, load_split
from training.distributed import DistContext
from training.evaluate import Evaluation, Validator
from training.loader import EpochSampler, PoseDataset
from training.losses import JointsMSELoss
from training.transforms import TopDownTransform

log = logging.getLogger("training")


@dataclass
class FitOptions:
    config: Config
    data: Path
    out: Path
    val_data: Path | None = None
    init: str = ""
    init_backbone_only: bool = False
    resume: bool = False
    device: str = "auto"
    progress: bool = True


@dataclass
class FitSummary:
    epochs: int
    global_step: int
    best_metric: float | None
    best_epoch: int
    last_evaluation: Evaluation | None
    history: dict[str, list[dict[str, Any]]]
    out: Path


class RecipeSchedule:
    """LR factor for optimiser step ``i``: linear warm-up, then x gamma at each milestone epoch.

    A callable object rather than a function so ``LambdaLR.state_dict`` records its settings.
    """

    def __init__(
        self,
        iters_per_epoch: int,
        milestones: list[int],
        gamma: float,
        warmup_iters: int,
        warmup_factor: float,
    ) -> None:
        self.iters_per_epoch = iters_per_epoch
        self.milestones = list(milestones)
        self.gamma = gamma
        self.warmup_iters = warmup_iters
        self.warmup_factor = warmup_factor

    def __call__(self, step: int) -> float:
        epoch = step // self.iters_per_epoch
        factor = self.gamma ** bisect.bisect_right(self.milestones, epoch)
        if step < self.warmup_iters:
            alpha = step / self.warmup_iters
            factor *= self.warmup_factor * (1 - alpha) + alpha
        return factor


def fit(options: FitOptions) -> FitSummary:
    """Train (or resume) one run; returns the final counters and metrics (on every rank)."""
    ctx = distributed.setup(options.device)
    try:
        return _Run(options, ctx).train()
    finally:
        distributed.teardown()


class _Run:
    def __init__(self, options: FitOptions, ctx: DistContext) -> None:
        self.options = options
        self.config = options.config
        self.ctx = ctx
        self.out = options.out
        self.writer: Any = None

    # ------------------------------------------------------------------------------- set-up

    def train(self) -> FitSummary:
        self._check_out_dir()
        log_file = self._configure_logging()
        threads = torch.get_num_threads()
        try:
            return self._train()
        finally:
            torch.set_num_threads(threads)
            if log_file is not None:
                logging.getLogger("training").removeHandler(log_file)
                log_file.close()

    def _train(self) -> FitSummary:
        config, ctx = self.config, self.ctx
        _seed_everything(config.train.seed, ctx.rank)
        if ctx.device.type == "cpu" and config.data.workers > 0:
            _leave_cores_for_workers(config.data.workers)
        if config.optim.batch_size % ctx.world_size:
            raise UserFacingError(
                f"batch size {config.optim.batch_size} does not split over {ctx.world_size} "
                "processes; choose a multiple of the process count"
            )
        train_set = load_split(self.options.data, "train", config.data, training=True)
        validator = self._make_validator(train_set)
        model = self._build_model(train_set)
        dataset = PoseDataset(
            train_set,
            TopDownTransform(
                config.model,
                config.augment,
                train_set.keypoint_names,
                train_set.flip_pairs,
                train=True,
            ),
            config.train.seed,
        )
        per_rank_batch = config.optim.batch_size // ctx.world_size
        sampler = EpochSampler(
            dataset,
            num_replicas=ctx.world_size,
            rank=ctx.rank,
            shuffle=True,
            seed=config.train.seed,
            drop_last=True,
        )
        iters_per_epoch = len(sampler) // per_rank_batch
        if iters_per_epoch == 0:
            raise UserFacingError(
                f"{len(dataset)} training people cannot fill one batch of "
                f"{config.optim.batch_size}; lower --batch-size"
            )
        loader = DataLoader(
            dataset,
            batch_size=per_rank_batch,
            sampler=sampler,
            num_workers=config.data.workers,
            pin_memory=ctx.device.type == "cuda",
            drop_last=True,
            persistent_workers=config.data.workers > 0,
            generator=torch.Generator().manual_seed(config.train.seed),
        )
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=config.optim.lr,
            betas=tuple(config.optim.betas),
            weight_decay=config.optim.weight_decay,
        )
        schedule = RecipeSchedule(
            iters_per_epoch,
            config.optim.milestones,
            config.optim.gamma,
            config.optim.warmup_iters,
            config.optim.warmup_factor,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        amp_dtype = amp_dtype_for(config.train.amp, ctx.device)
        scaler = torch.amp.GradScaler(ctx.device.type, enabled=amp_dtype == torch.float16)
        progress = TrainingProgress()
        if self.options.resume:
            progress = self._resume(model, optimizer, scheduler, scaler)
        ddp_model = self._wrap(model)
        if ctx.is_main:
            self._write_config()
            self._open_tensorboard()
            log.info(
                "training %s on %s: %d people, %d steps/epoch of %d (x%d processes), %s, AMP %s",
                config.model.arch,
                ctx.device,
                len(dataset),
                iters_per_epoch,
                per_rank_batch,
                ctx.world_size,
                f"epochs {progress.epoch + 1}-{config.optim.epochs}",
                {None: "off", torch.float16: "fp16", torch.bfloat16: "bf16"}[amp_dtype],
            )
        try:
            return self._loop(
                model, ddp_model, loader, sampler, optimizer, scheduler, scaler, amp_dtype,
                progress, validator, train_set,
            )  # fmt: skip
        finally:
            if self.writer is not None:
                self.writer.close()

    def _check_out_dir(self) -> None:
        """Refuse to overwrite a run or to resume nothing, with the same answer on every rank."""
        latest = self.out / LATEST
        problem = None
        if self.ctx.is_main:
            if self.options.resume and not latest.is_file():
                problem = f"--resume: there is no {LATEST} in {self.out} to continue from"
            elif not self.options.resume and latest.is_file():
                problem = (
                    f"{self.out} already holds a training run; add --resume to continue it "
                    "or choose another --out"
                )
            else:
                self.out.mkdir(parents=True, exist_ok=True)
                remove_stale_partials(self.out)
        problem = distributed.broadcast_object(problem)
        if problem is None and self.options.resume:
            readable = distributed.all_gather_objects(latest.is_file())
            if not all(readable):
                problem = (
                    f"{latest} is not readable on every machine: with several nodes, --out "
                    "must be on storage they all share"
                )
        if problem:
            raise UserFacingError(problem)

    def _configure_logging(self) -> logging.Handler | None:
        """Rank 0 logs to the console and to OUT/train.log; other ranks only report errors."""
        logger = logging.getLogger("training")
        logger.setLevel(logging.INFO if self.ctx.is_main else logging.ERROR)
        if not self.ctx.is_main:
            return None
        handler = logging.FileHandler(self.out / "train.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        return handler

    def _make_validator(self, train_set: KeypointSet) -> Validator | None:
        d = self.config.data
        root = self.options.val_data or self._val_split_beside(train_set)
        if root is None:
            log.warning(
                "no validation set found beside the training data: training without "
                "evaluation (give one with --val-data)"
            )
            return None
        val_set = load_split(root, "val", d, training=False)
        detections = None
        if d.val_detections:
            base = Path(root) if Path(root).is_dir() else Path(root).parent
            path = base / d.val_detections
            if not path.is_file():
                raise UserFacingError(
                    f"person detections {path} not found: download them, or evaluate with "
                    'ground-truth boxes with --set data.val_detections=""'
                )
            detections = load_person_detections(path, val_set, d.detection_score_threshold)
        if val_set.num_keypoints != train_set.num_keypoints:
            raise UserFacingError(
                f"the validation set has {val_set.num_keypoints} keypoints, the training set "
                f"{train_set.num_keypoints}"
            )
        return Validator(val_set, self.config, self.ctx, detections)

    def _val_split_beside(self, train_set: KeypointSet) -> Path | None:
        """``--data`` again if it holds a validation split of its own, else None."""
        try:
            files = find_split(self.options.data, "val", self.config.data)
        except UserFacingError:
            return None
        return None if files.annotations == train_set.annotation_file else self.options.data

    def _build_model(self, train_set: KeypointSet) -> nn.Module:
        m = self.config.model
        if train_set.num_keypoints != m.num_keypoints:
            raise UserFacingError(
                f"the training set has {train_set.num_keypoints} keypoints but the config says "
                f"model.num_keypoints = {m.num_keypoints}"
            )
        init = self.options.init or m.init
        if init and not self.options.resume:
            loaded = rhpnet.load_checkpoint(
                init,
                arch=m.arch,
                num_keypoints=m.num_keypoints,
                backbone_only=self.options.init_backbone_only,
            )
            model, report = loaded.model, loaded.report
            log.info("initialised from %s (%s): %s", init, report.source_format, report.summary())
        else:
            model = rhpnet.build_model(m.arch, num_keypoints=m.num_keypoints)
        if self.config.train.batchnorm == "sync":
            if self.ctx.device.type != "cuda":
                raise UserFacingError(
                    'SyncBatchNorm needs CUDA GPUs; use train.batchnorm = "train"'
                )
            if self.ctx.distributed:
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = model.to(self.ctx.device)
        if self.ctx.device.type == "cuda" and self.config.train.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def _wrap(self, model: nn.Module) -> nn.Module:
        if not self.ctx.distributed:
            return model
        device_ids = [self.ctx.device.index] if self.ctx.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def _resume(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
        scaler: torch.amp.GradScaler,
    ) -> TrainingProgress:
        state = read_training_checkpoint(self.out / LATEST)
        if state.arch != self.config.model.arch:
            raise UserFacingError(
                f"{self.out / LATEST} trained {state.arch}, the config asks for "
                f"{self.config.model.arch}"
            )
        saved_batch = state.recipe.get("optim", {}).get("batch_size")
        if saved_batch not in (None, self.config.optim.batch_size):
            log.warning(
                "resuming with batch size %d instead of %d: the run will not repeat the "
                "original one exactly",
                self.config.optim.batch_size,
                saved_batch,
            )
        model.load_state_dict(state.model_state)
        optimizer.load_state_dict(state.optimizer)
        scheduler.load_state_dict(state.scheduler)
        scaler.load_state_dict(state.scaler)
        if len(state.rng) == self.ctx.world_size:
            restore_rng_state(state.rng[self.ctx.rank])
        log.info(
            "resumed %s after epoch %d (step %d)",
            self.out / LATEST,
            state.progress.epoch,
            state.progress.global_step,
        )
        return state.progress

    def _write_config(self) -> None:
        atomic_write_text(self.out / "config.json", json.dumps(self.config.to_dict(), indent=2))

    def _open_tensorboard(self) -> None:
        if not self.config.train.tensorboard:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.out / "tensorboard"))

    # --------------------------------------------------------------------------------- loop

    def _loop(
        self,
        model: nn.Module,
        ddp_model: nn.Module,
        loader: DataLoader,
        sampler: EpochSampler,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
        scaler: torch.amp.GradScaler,
        amp_dtype: torch.dtype | None,
        progress: TrainingProgress,
        validator: Validator | None,
        train_set: KeypointSet,
    ) -> FitSummary:
        from tqdm import tqdm

        config, ctx = self.config, self.ctx
        criterion = JointsMSELoss()
        evaluation: Evaluation | None = None
        channels_last = ctx.device.type == "cuda" and config.train.channels_last

        def out_of_steps() -> bool:
            return bool(config.train.max_steps) and progress.global_step >= config.train.max_steps

        for epoch in range(progress.epoch, config.optim.epochs):
            if out_of_steps():
                break
            sampler.set_epoch(epoch)
            _set_train_mode(ddp_model, config.train.batchnorm == "frozen")
            started = time.perf_counter()
            loss_sum = torch.zeros((), device=ctx.device)
            steps = 0
            bar = tqdm(
                loader,
                desc=f"epoch {epoch + 1}/{config.optim.epochs}",
                unit="step",
                disable=not (ctx.is_main and self.options.progress),
            )
            for batch in bar:
                images = batch["image"].to(ctx.device, non_blocking=True)
                if channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                lr = optimizer.param_groups[0]["lr"]
                loss = training_step(
                    ddp_model,
                    images,
                    batch["heatmaps"].to(ctx.device, non_blocking=True),
                    batch["target_weight"].to(ctx.device, non_blocking=True),
                    criterion=criterion,
                    optimizer=optimizer,
                    scaler=scaler,
                    amp_dtype=amp_dtype,
                    grad_clip=config.optim.grad_clip,
                )
                scheduler.step()
                progress.global_step += 1
                steps += 1
                loss_sum += loss
                if progress.global_step % config.train.log_every == 0:
                    self._log_step(progress, epoch, loss, lr, bar)
                if out_of_steps():
                    break
            bar.close()
            progress.epoch = epoch + 1
            epoch_loss = float(distributed.mean_over_ranks(loss_sum / max(steps, 1)))
            record: dict[str, Any] = {
                "epoch": progress.epoch,
                "loss": epoch_loss,
                "lr": optimizer.param_groups[0]["lr"],
                "steps": progress.global_step,
                "seconds": round(time.perf_counter() - started, 2),
            }
            last_epoch = progress.epoch == config.optim.epochs or out_of_steps()
            improved = False
            if validator is not None and (
                progress.epoch % config.train.eval_every == 0 or last_epoch
            ):
                evaluation = validator.evaluate(
                    model, progress=ctx.is_main and self.options.progress
                )
                record[evaluation.metric] = evaluation.value
                record["metrics"] = evaluation.metrics
                improved = progress.best_metric is None or evaluation.value > progress.best_metric
                if improved:
                    progress.best_metric, progress.best_epoch = evaluation.value, progress.epoch
                if ctx.is_main:
                    log.info("epoch %d: %s", progress.epoch, evaluation.table.replace("\n", " | "))
                    self._log_evaluation(model, validator, evaluation, progress.epoch)
            progress.history["epochs"].append(record)
            if ctx.is_main:
                log.info(
                    "epoch %d/%d: loss %.4e, lr %.1e, %.1f s",
                    progress.epoch, config.optim.epochs, epoch_loss, record["lr"], record["seconds"],
                )  # fmt: skip
            if progress.epoch % config.train.checkpoint_every == 0 or last_epoch:
                rng_states = distributed.all_gather_objects(capture_rng_state())
                if ctx.is_main:
                    self._save(model, optimizer, scheduler, scaler, progress, rng_states, train_set)
            if ctx.is_main and improved and evaluation is not None:
                self._save_best(model, train_set, progress.epoch, evaluation)
            distributed.barrier()
        return FitSummary(
            epochs=progress.epoch,
            global_step=progress.global_step,
            best_metric=progress.best_metric,
            best_epoch=progress.best_epoch,
            last_evaluation=evaluation,
            history=progress.history,
            out=self.out,
        )

    # ------------------------------------------------------------------------------ outputs

    def _log_step(
        self, progress: TrainingProgress, epoch: int, loss: torch.Tensor, lr: float, bar: Any
    ) -> None:
        """Record the loss over all ranks; a loss that is no longer finite ends the run."""
        value = float(distributed.mean_over_ranks(loss))
        if not math.isfinite(value):
            raise UserFacingError(
                f"the loss became {value} at step {progress.global_step}; lower the "
                "learning rate or enable gradient clipping (optim.grad_clip)"
            )
        progress.history["steps"].append(
            {"step": progress.global_step, "epoch": epoch + 1, "loss": value, "lr": lr}
        )
        bar.set_postfix(loss=f"{value:.3e}", lr=f"{lr:.1e}")
        if self.writer is not None:
            self.writer.add_scalar("train/loss", value, progress.global_step)
            self.writer.add_scalar("train/lr", lr, progress.global_step)

    def _log_evaluation(
        self, model: nn.Module, validator: Validator, evaluation: Evaluation, epoch: int
    ) -> None:
        if self.writer is None:
            return
        for name, value in evaluation.metrics.items():
            self.writer.add_scalar(f"val/{name}", value, epoch)
        count = self.config.train.preview_images
        if count > 0:
            panels = validator.prediction_panels(model, count)
            batch = np.stack([p[..., ::-1] for p in panels]).transpose(0, 3, 1, 2)
            self.writer.add_images("val/predicted_red_vs_target_green", batch, epoch)
        self.writer.flush()

    def _checkpoint_fields(self, train_set: KeypointSet) -> dict[str, Any]:
        """What both checkpoints record beside the weights, so each opens as a model."""
        return {
            "keypoint_names": train_set.keypoint_names,
            "input_size": self.config.model.input_size,
            "recipe": self.config.to_dict(),
        }

    def _save(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
        scaler: torch.amp.GradScaler,
        progress: TrainingProgress,
        rng_states: list[dict[str, Any]],
        train_set: KeypointSet,
    ) -> None:
        save_training_checkpoint(
            self.out / LATEST,
            model,
            **self._checkpoint_fields(train_set),
            optimizer=optimizer,
            scheduler=scheduler,
            scaler=scaler,
            progress=progress,
            rng_states=rng_states,
        )
        atomic_write_text(self.out / "metrics.json", json.dumps(progress.history, indent=1))

    def _save_best(
        self, model: nn.Module, train_set: KeypointSet, epoch: int, evaluation: Evaluation
    ) -> None:
        """The model alone (no optimiser state), with the metrics that made it the best."""
        metrics = {evaluation.metric: evaluation.value, **evaluation.metrics}
        save_checkpoint(
            self.out / BEST,
            model,
            **self._checkpoint_fields(train_set),
            extra={"epoch": epoch, "metrics": metrics},
        )
        log.info("epoch %d is the best so far (%s %.4f): saved %s", epoch, evaluation.metric,
                 evaluation.value, self.out / BEST)  # fmt: skip


def training_step(
    model: nn.Module,
    images: torch.Tensor,
    heatmaps: torch.Tensor,
    target_weight: torch.Tensor,
    *,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    amp_dtype: torch.dtype | None,
    grad_clip: float = 0.0,
) -> torch.Tensor:
    """One optimiser step: forward (autocast when ``amp_dtype``), loss in float32, scaled
    backward, optional gradient-norm clipping, step. Returns the detached loss."""
    autocast = torch.autocast(images.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    with autocast:
        predicted = model(images)
    loss = criterion(predicted, heatmaps, target_weight)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip > 0:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()


def _seed_everything(seed: int, rank: int) -> None:
    """Same model initialisation on every rank; rank-specific Python/numpy streams."""
    random.seed(seed + rank)
    np.random.seed(seed + rank)
    torch.manual_seed(seed)


def amp_dtype_for(setting: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``train.amp`` on ``device`` (None: full float32; CPU always)."""
    if device.type != "cuda" or setting == "off":
        return None
    if setting == "bf16" or (setting == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def _leave_cores_for_workers(workers: int) -> None:
    """On CPU, give data-loading workers their own cores: when they compete with every
    intra-op thread of the training step, OpenMP threads spin-wait on each other and a step
    took 20x longer on a 2-core machine (measured)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, min(torch.get_num_threads(), (cores or 1) - workers))
    if threads < torch.get_num_threads():
        log.info(
            "CPU training: %d compute threads beside %d data-loading workers", threads, workers
        )
        torch.set_num_threads(threads)


def _set_train_mode(model: nn.Module, frozen_batchnorm: bool) -> None:
    model.train()
    if frozen_batchnorm:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
