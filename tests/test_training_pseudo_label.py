"""Pseudo-labelling real running clips into COCO-format training sets."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

from rhpnet.errors import DataError, UserFacingError
from rhpnet.poses import FramePoses
from training import pseudo_label
from training.datasets import load_split
from training.pseudo_label import PseudoLabelSettings, pseudo_label_videos, read_frames

CLIP = "treadmill_side_slow.mp4"  # 480x360, 29.97 fps, one runner


class ScriptedEstimator:
    """A runner gliding right at constant speed, with planted faults on chosen frames.

    Frame 6: left and right ankles swapped (a classic estimator glitch). Frame 9: low scores.
    Frame 12: nobody found.
    """

    def __init__(self) -> None:
        self.frame = 0
        rng = np.random.default_rng(0)
        self.offsets = rng.uniform(-40, 40, (17, 2))

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        frame, self.frame = self.frame, self.frame + 1
        if frame == 12:
            return FramePoses.empty()
        centre = np.array([200.0 + 2.0 * frame, 180.0])
        xy = centre + self.offsets
        if frame == 6:
            xy[[15, 16]] = xy[[16, 15]]
        score = np.full((17, 1), 0.3 if frame == 9 else 0.9)
        keypoints = np.concatenate([xy, score], axis=1)
        box = np.array([[150.0 + 2 * frame, 130.0, 100.0, 100.0]])
        return FramePoses(keypoints[None], box, score.mean()[None])

    def describe(self) -> dict[str, Any]:
        return {"name": "scripted"}

    def close(self) -> None:
        pass


def test_confident_consistent_frames_are_kept(videos_dir, tmp_path):
    settings = PseudoLabelSettings(sample_fps=30, max_frames=16, min_keypoints=12)
    report = pseudo_label_videos(
        [videos_dir / CLIP], tmp_path / "set", ScriptedEstimator(), settings
    )

    video = report.videos[0]
    assert video.frames_read == 16 and video.frames_sampled == 16
    # Frames 0 and 15 lack a neighbour; 11 and 13 neighbour the empty frame 12; 9 is unsure.
    assert video.rejected == {
        pseudo_label.REJECT_NO_NEIGHBOURS: 4,
        pseudo_label.REJECT_NO_PERSON: 1,
        pseudo_label.REJECT_LOW_SCORE: 1,
    }
    assert video.frames_kept == 16 - 6
    data = json.loads((tmp_path / "set" / "annotations.json").read_text())
    frames = {im["frame_index"]: im["id"] for im in data["images"]}
    assert sorted(frames) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 14]
    by_image = {a["image_id"]: np.array(a["keypoints"]).reshape(17, 3) for a in data["annotations"]}
    glitched = by_image[frames[6]]
    # The swapped ankles jump away from smooth motion: unlabelled, the rest kept.
    assert (glitched[[15, 16], 2] == 0).all() and (glitched[:15, 2] == 2).all()
    # Frames 5 and 7 border the glitch: the midpoint of their neighbours is pulled by the
    # swapped ankles, so their ankles are dropped too; frame 3 is clean.
    for frame in (5, 7):
        assert (by_image[frames[frame]][[15, 16], 2] == 0).all()
    assert (by_image[frames[3]][:, 2] == 2).all()

    loaded = load_split(tmp_path / "set", "train", training=True)
    assert len(loaded) == 10 and loaded.skipped.counts.total() == 0
    assert loaded.instances[0].image.width == 480 and loaded.instances[0].image.height == 360

    with pytest.raises(UserFacingError, match="already holds"):
        pseudo_label_videos([videos_dir / CLIP], tmp_path / "set", ScriptedEstimator(), settings)


def test_unreadable_video_is_a_data_error(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    with pytest.raises(DataError):
        list(read_frames(broken))


@pytest.mark.slow
def test_real_clip_with_the_bundled_estimator_gives_a_trainable_set(videos_dir, tmp_path):
    from app import cli

    out = tmp_path / "mine"
    code = cli.main(
        ["train", "pseudo-label", str(videos_dir / CLIP), "--out", str(out),
         "--max-frames", "45", "--sample-fps", "10"]
    )  # fmt: skip
    assert code == 0
    data = json.loads((out / "annotations.json").read_text())
    assert data["info"]["estimator"]["name"] == "blazepose"
    loaded = load_split(out, "train", training=True)
    assert len(loaded) >= 5, "BlazePose should track this clear side-view runner"
    for person in loaded.instances:
        labelled = person.keypoints[person.keypoints[:, 2] > 0]
        assert len(labelled) >= 12
        x, y, w, h = person.crop_box
        inside = (
            (labelled[:, 0] >= x - 1) & (labelled[:, 0] <= x + w + 1)
            & (labelled[:, 1] >= y - 1) & (labelled[:, 1] <= y + h + 1)
        )  # fmt: skip
        assert inside.all()
    grid = tmp_path / "grid.png"
    assert cli.main(["train", "preview", "--config", "running_human_256x192_finetune",
                     "--data", str(out), "--out", str(grid), "--count", "4"]) == 0  # fmt: skip
    assert grid.stat().st_size > 10_000
    # ... and fine-tuning runs on it (two optimiser steps of the tiny network, one thread so
    # other jobs on a small machine cannot make OpenMP threads spin against each other).
    run = tmp_path / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = cli.main(
            ["train", "fit", "--config", "running_human_256x192_finetune", "--tiny", "--data",
             str(out), "--out", str(run), "--batch-size", "4", "--workers", "0", "--set",
             "train.max_steps=2", "--no-progress"]
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    assert json.loads((run / "metrics.json").read_text())["steps"][-1]["step"] == 2
