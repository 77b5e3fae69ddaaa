"""The bundled BlazePose on one crop around a given box: a fresh look where someone should be.

Video analysis finds people with BlazePose's own detector over the whole frame, which misses
runners a few dozen pixels tall or packed together. Where a track says where a person should be,
a crop around that place (``CONTEXT`` times the box, upscaled so that its longer side has at
least ``MIN_SIDE`` pixels) shows them large enough for the detector to find again
(``app.core.track_extension``). Static-image mode: each crop is a new detection, with no
tracking state carried from a crop elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rhpnet.boxes import extent_boxes
from rhpnet.estimators.blazepose import landmarks_in_pixels, legacy_pose, solution_landmarks
from rhpnet.estimators.blazepose_boxes import crop_for_box, extract_crop
from rhpnet.poses import FramePoses
from rhpnet.skeleton import BLAZEPOSE_TO_POSE, NUM_POSE_KEYPOINTS

CONTEXT = 1.8  # crop side / box side: room for a limb the box left out, little for neighbours
MIN_SIDE = 256  # BlazePose's landmark model takes 256 x 256
MIN_DETECTION_CONFIDENCE = 0.3  # the caller judges the pose (position, look), not the detector
BOX_PADDING = 0.1  # as the video estimator's boxes (rhpnet.estimators.blazepose)


class BlazePoseCropEstimator:
    """One pose (pose layout: COCO-17 + feet, image pixels) per crop, or none."""

    def __init__(self) -> None:
        self._pose = legacy_pose(
            static_image_mode=True,
            smooth_landmarks=False,
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        )

    def estimate(self, image_bgr: np.ndarray, box_xywh: np.ndarray) -> FramePoses:
        """The person BlazePose finds in a crop around ``box_xywh``: zero or one pose."""
        height, width = image_bgr.shape[:2]
        crop = crop_for_box(
            np.asarray(box_xywh, np.float64), (width, height), CONTEXT, False, "pad", MIN_SIDE
        )
        pixels = extract_crop(image_bgr, crop, "cubic")
        landmarks = solution_landmarks(self._pose.process(np.ascontiguousarray(pixels[:, :, ::-1])))
        if len(landmarks) == 0:
            return FramePoses.empty(NUM_POSE_KEYPOINTS)
        points = landmarks_in_pixels(landmarks, *crop.size)[0]
        points[:, :2] = crop.to_image(points[:, :2])
        keypoints = points[list(BLAZEPOSE_TO_POSE)][None].astype(np.float32)
        boxes = extent_boxes(points[None, :, :2], [BOX_PADDING] * 4, (width, height))
        return FramePoses(keypoints, boxes, keypoints[:, :, 2].mean(axis=1))

    def describe(self) -> dict[str, Any]:
        return {
            "name": "blazepose",
            "model": "pose_landmark_full (BlazePose GHUM 3D, full), on crops",
            "crop": f"{CONTEXT:g} x the box, longer side at least {MIN_SIDE} px",
        }

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
