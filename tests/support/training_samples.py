"""Small real-data samples for the training tests, built from the shared dev sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rhpnet.skeleton import MPII_KEYPOINT_NAMES


def mpii_entries(sportpose_dir: Path) -> list[dict]:
    """MPII-layout entries (1-based MATLAB pixels) rebuilt from dev-sportpose's MPII people."""
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    files = {im["id"]: im["file_name"] for im in data["images"]}
    coco_index = {"right_ankle": 16, "right_knee": 14, "right_hip": 12, "left_hip": 11,
                  "left_knee": 13, "left_ankle": 15, "right_wrist": 10, "right_elbow": 8,
                  "right_shoulder": 6, "left_shoulder": 5, "left_elbow": 7, "left_wrist": 9}  # fmt: skip
    entries = []
    for ann in data["annotations"]:
        if not files[ann["image_id"]].startswith("mpii") or "mpii_center" not in ann:
            continue
        kp = np.asarray(ann["keypoints"], float).reshape(17, 3)
        joints, visible = [], []
        for name in MPII_KEYPOINT_NAMES:
            if name in coco_index:
                x, y, v = kp[coco_index[name]]
            else:
                x, y, v = ann["extra_keypoints"].get(name, [0.0, 0.0, 0])
            joints.append([x + 1, y + 1] if v else [0.0, 0.0])
            visible.append(int(v > 0))
        entries.append(
            {"image": files[ann["image_id"]], "center": [c + 1 for c in ann["mpii_center"]],
             "scale": ann["mpii_scale"], "joints": joints, "joints_vis": visible}
        )  # fmt: skip
    return entries
