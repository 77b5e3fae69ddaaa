"""The training loop on CPU: overfitting, exact resume, DDP equivalence, crash-safe checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import rhpnet
from rhpnet.errors import UserFacingError
from training.checkpointing import LATEST, read_training_checkpoint, remove_stale_partials
from training.config import load_config
from training.engine import FitOptions, fit

REPO_ROOT = Path(__file__).resolve().parents[1]
NO_AUGMENTATION_BUT_FLIP = [
    "augment.scale_factor=0.0",
    "augment.rotation_prob=0",
    "augment.half_body_prob=0",
    "augment.color_jitter_prob=0",
    "augment.random_erasing_prob=0",
    "augment.gridmask_prob=0",
]


@pytest.fixture
def one_thread():
    """One intra-op thread: with data-loading workers or other jobs on a 2-core machine, two
    OpenMP threads spin against each other and a run took 20x longer (measured)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _eight_runners(sportpose_dir: Path, tmp_path: Path) -> Path:
    """Annotations of 8 single-runner images of dev-sportpose (the images stay where they are)."""
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    images = [im for im in data["images"] if im["file_name"].startswith("lspet")][:8]
    ids = {im["id"] for im in images}
    subset = {**data, "images": images}
    subset["annotations"] = [a for a in data["annotations"] if a["image_id"] in ids]
    path = tmp_path / "eight.json"
    path.write_text(json.dumps(subset))
    return path


def _images(folder: Path) -> list[str]:
    return [f'data.train_images="{folder}"', f'data.val_images="{folder}"']


@pytest.mark.slow
def test_tiny_rhpnet_overfits_eight_images(sportpose_dir, tmp_path, one_thread):
    """Loss falls by >= 80 % and OKS AP (flip test on, shared evaluation path) exceeds 0.5."""
    annotations = _eight_runners(sportpose_dir, tmp_path)
    steps = 200
    config = load_config(
        "coco_256x192",
        [
            *NO_AUGMENTATION_BUT_FLIP,
            *_images(sportpose_dir / "images"),
            'model.arch="rhpnet_tiny"',
            "model.input_height=96",
            "model.input_width=64",
            "optim.lr=3e-3",
            "optim.batch_size=8",
            f"optim.epochs={steps}",
            f"optim.milestones=[{steps}]",
            "data.workers=0",
            'data.val_detections=""',
            f"train.eval_every={steps}",
            f"train.checkpoint_every={steps}",
            "train.log_every=1",
            "train.tensorboard=false",
        ],
    )
    summary = fit(
        FitOptions(
            config, data=annotations, val_data=annotations, out=tmp_path / "run", progress=False
        )
    )
    losses = [record["loss"] for record in summary.history["steps"]]
    assert len(losses) == steps
    final = float(np.mean(losses[-10:]))
    curve = ", ".join(f"{i + 1}: {losses[i]:.3e}" for i in range(0, steps, 20))
    print(f"\noverfit loss per step {curve}, last-10 mean {final:.3e}")
    print(f"loss fell by {100 * (1 - final / losses[0]):.1f} %, OKS AP {summary.best_metric:.3f}")
    print("AP table:", summary.last_evaluation.table)
    assert final <= 0.2 * losses[0]
    assert summary.best_metric > 0.5
    assert (tmp_path / "run" / "best.pth").is_file()
    best = rhpnet.load_checkpoint(tmp_path / "run" / "best.pth")
    assert best.meta.input_size == (96, 64)
    assert best.meta.extra["metrics"]["AP"] == pytest.approx(summary.best_metric)


def _resume_config(running_lspet_dir: Path, epochs: int):
    return load_config(
        "coco_256x192",
        [
            'model.arch="rhpnet_tiny"',
            "model.input_height=64",
            "model.input_width=64",
            "optim.batch_size=4",
            f"optim.epochs={epochs}",
            "optim.milestones=[2]",
            "optim.warmup_iters=4",
            "optim.grad_clip=1.0",
            "data.workers=2",
            "data.max_train_instances=12",
            "train.log_every=1",
            "train.tensorboard=false",
        ],
    )


def test_resumed_run_equals_an_uninterrupted_run(running_lspet_dir, tmp_path, one_thread):
    """Full augmentation, two data-loading workers, warm-up, a milestone and gradient clipping:
    stopping after epoch 2 and resuming gives the uninterrupted run's weights."""
    straight = fit(
        FitOptions(
            _resume_config(running_lspet_dir, 3), running_lspet_dir, tmp_path / "a", progress=False
        )
    )
    fit(
        FitOptions(
            _resume_config(running_lspet_dir, 2), running_lspet_dir, tmp_path / "b", progress=False
        )
    )
    with pytest.raises(UserFacingError, match="already holds a training run"):
        fit(FitOptions(_resume_config(running_lspet_dir, 3), running_lspet_dir, tmp_path / "b"))
    resumed = fit(
        FitOptions(
            _resume_config(running_lspet_dir, 3),
            running_lspet_dir,
            tmp_path / "b",
            resume=True,
            progress=False,
        )
    )
    assert resumed.global_step == straight.global_step == 9
    assert resumed.history["steps"] == straight.history["steps"]
    a = read_training_checkpoint(tmp_path / "a" / LATEST)
    b = read_training_checkpoint(tmp_path / "b" / LATEST)
    assert a.model_state.keys() == b.model_state.keys()
    for name, tensor in a.model_state.items():
        torch.testing.assert_close(b.model_state[name], tensor, atol=1e-6, rtol=0, msg=name)
    assert b.scheduler["last_epoch"] == a.scheduler["last_epoch"] == 9
    for key, state in a.optimizer["state"].items():
        torch.testing.assert_close(b.optimizer["state"][key]["exp_avg_sq"], state["exp_avg_sq"])


def test_initialisation_from_public_hrnet_weights(running_lspet_dir, tmp_path, one_thread):
    """A bare HRNet state dict (the official release's layout) starts RHPNet's trunk."""
    hrnet = rhpnet.build_model("hrnet_tiny")
    torch.save(hrnet.state_dict(), tmp_path / "pose_hrnet.pth")
    config = _resume_config(running_lspet_dir, 1)
    config.train.max_steps = 1
    fit(
        FitOptions(
            config, running_lspet_dir, tmp_path / "run", init=str(tmp_path / "pose_hrnet.pth"),
            progress=False,
        )
    )  # fmt: skip
    log = (tmp_path / "run" / "train.log").read_text()
    assert "pose_hrnet.pth (official-hrnet)" in log
    assert "tensors loaded" in log and "left at random init" in log
    trained = read_training_checkpoint(tmp_path / "run" / LATEST)
    assert trained.arch == "rhpnet_tiny"


def test_resume_needs_a_checkpoint(running_lspet_dir, tmp_path):
    with pytest.raises(UserFacingError, match="no latest.pth"):
        fit(
            FitOptions(
                _resume_config(running_lspet_dir, 1), running_lspet_dir, tmp_path, resume=True
            )
        )


def _ddp_config(tmp_path: Path, annotations: Path, images: Path) -> Path:
    config = tmp_path / "ddp.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [model]
            arch = "rhpnet_tiny"
            input_height = 64
            input_width = 64
            [data]
            workers = 0
            train_images = "{images}"
            val_images = "{images}"
            [optim]
            epochs = 2
            milestones = [1]
            [train]
            batchnorm = "frozen"
            log_every = 1
            preview_images = 2
            [eval]
            batch_size = 8
            """
        )
    )
    return config


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_doubled_batch(sportpose_dir, tmp_path):
    """torchrun with 2 CPU processes x batch 2 follows the loss curve of 1 process x batch 4.

    DistributedSampler hands rank r the samples r, r + 2, ... of the same epoch permutation, and
    each sample's augmentation is seeded by (seed, epoch, index), so the two ranks together see
    exactly the single process's batch. DDP averages the two half-batch gradients, which equals
    the full-batch mean gradient; BatchNorm is frozen because per-process batch statistics
    (SyncBatchNorm needs CUDA) would legitimately differ. What remains is float32 summation
    order (~1e-7 relative per step), amplified a little by Adam over 4 steps: 1e-4 relative
    bounds it with a wide margin, while a wrong sample split or gradient scaling moves the loss
    by percents. Evaluation runs on both ranks, gathered into one pycocotools call.
    """
    annotations = _eight_runners(sportpose_dir, tmp_path)
    config = _ddp_config(tmp_path, annotations, sportpose_dir / "images")
    common = ["fit", "--config", str(config), "--data", str(annotations), "--val-data",
              str(annotations), "--batch-size", "4", "--device", "cpu", "--no-progress"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    single = subprocess.run(
        [sys.executable, "-m", "training", *common, "--out", str(tmp_path / "one")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    double = subprocess.run(
        [*launcher, "-m", "training", *common, "--out", str(tmp_path / "two")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert double.returncode == 0, double.stderr
    assert "2 steps/epoch of 2 (x2 processes)" in double.stderr

    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    loss_one = np.array([r["loss"] for r in one["steps"]])
    loss_two = np.array([r["loss"] for r in two["steps"]])
    assert len(loss_one) == len(loss_two) == 4
    print(f"\n1 process: {loss_one}\n2 processes: {loss_two}")
    print(f"largest relative difference {np.max(np.abs(loss_two / loss_one - 1)):.2e}")
    np.testing.assert_allclose(loss_two, loss_one, rtol=1e-4)
    assert abs(one["epochs"][-1]["AP"] - two["epochs"][-1]["AP"]) < 1e-3

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for run in ("one", "two"):
        events = EventAccumulator(str(tmp_path / run / "tensorboard")).Reload()
        tags = events.Tags()
        assert {"train/loss", "train/lr", "val/AP", "val/AR"} <= set(tags["scalars"])
        assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(
            [r["loss"] for r in (one if run == "one" else two)["steps"]]
        )
        assert tags["images"] == ["val/predicted_red_vs_target_green"]


_SAVER = """
import sys, torch, rhpnet
from pathlib import Path
from rhpnet.skeleton import COCO_KEYPOINT_NAMES
from training.checkpointing import TrainingProgress, capture_rng_state, save_training_checkpoint
torch.set_num_threads(1)
model = rhpnet.build_model("hrnet_tiny", widths=(16, 32, 64, 128))
optimizer = torch.optim.Adam(model.parameters())
model(torch.randn(2, 3, 64, 64)).mean().backward()
optimizer.step()
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
scaler = torch.amp.GradScaler("cpu", enabled=False)
out = Path(sys.argv[1])
for epoch in range(1, 1000):
    print("saving", epoch, flush=True)
    save_training_checkpoint(
        out / "latest.pth", model, keypoint_names=COCO_KEYPOINT_NAMES,
        input_size=(64, 64), recipe={}, optimizer=optimizer, scheduler=scheduler,
        scaler=scaler, progress=TrainingProgress(epoch=epoch, global_step=epoch),
        rng_states=[capture_rng_state()],
    )
    print("saved", epoch, flush=True)
"""


@pytest.mark.slow
def test_kill_9_during_a_save_leaves_the_previous_checkpoint(tmp_path):
    """SIGKILL a process while its temporary checkpoint file is being written: latest.pth
    must still load, holding the last completed save."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    interrupted_saves = 0
    for _ in range(5):
        process = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(tmp_path)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        for line in process.stdout:
            if line.strip() == "saved 2":
                break
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".latest.*.partial.pth")) and time.monotonic() < deadline:
            pass  # the next save has not created its temporary file yet
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL
        interrupted_saves += bool(list(tmp_path.glob(".latest.*.partial.pth")))
        state = read_training_checkpoint(tmp_path / LATEST)
        assert state.progress.epoch >= 2
        assert rhpnet.load_checkpoint(tmp_path / LATEST).meta.extra["epoch"] >= 2
        remove_stale_partials(tmp_path)
        assert not list(tmp_path.glob(".latest.*"))
        if interrupted_saves >= 2:
            break
    assert interrupted_saves >= 2, "no kill landed inside a save; the test proved nothing"
