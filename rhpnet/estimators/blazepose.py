"""The bundled default estimator: BlazePose (full) from the mediapipe 0.10.14 wheel, offline.

Two ways to run the same two networks (person detector + 33-landmark model):

* ``"solution"``: mediapipe's legacy ``solutions.pose.Pose(model_complexity=1)``, one person.
  Complexity 0 and 2 would download their weights at run time, so they are never used.
* ``"tasks"``: the Tasks ``PoseLandmarker`` in VIDEO mode with ``num_poses=N``, fed by a
  ``.task`` bundle built once from the wheel's own model files (see ``blazepose_bundle``).

Both re-use the previous frame's landmarks to place the next crop (tracking) and run the detector
only when that fails. The 33 landmarks map onto the pose layout (COCO-17, then both heels and
both foot indices as ``left_heel`` ... ``right_big_toe``) with ``BLAZEPOSE_TO_POSE``; a keypoint's
score is the landmark's visibility (times its presence where the Tasks API reports it), and the
person box is the extent of all 33 landmarks (feet and hands included), padded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from rhpnet.boxes import extent_boxes
from rhpnet.poses import FramePoses, without_duplicates
from rhpnet.skeleton import BLAZEPOSE_TO_POSE, NUM_POSE_KEYPOINTS, POSE_KEYPOINT_NAMES

NUM_BLAZEPOSE_LANDMARKS = 33
BACKENDS = ("solution", "tasks")
# The legacy solution is the default for one runner: see docs/engine.md ("Model choices") for the
# measurement behind this choice.
DEFAULT_SINGLE_PERSON_BACKEND = "solution"


def import_mediapipe() -> ModuleType:
    """mediapipe, imported with its C++ logging kept to errors and a noisy warning silenced."""
    # glog reads the level once, at import.
    os.environ.setdefault("GLOG_minloglevel", "2")
    # mediapipe 0.10.14 calls a protobuf API that newer protobuf deprecates, on every run.
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
    import mediapipe

    return mediapipe


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence C++ log lines written while mediapipe builds its graph and loads the models.

    mediapipe then logs harmless lines ("Created TensorFlow Lite XNNPACK delegate", "Feedback
    manager requires a model with a single signature inference") that absl offers no switch
    for; they would read like failures on every run. Errors still surface as Python exceptions.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def legacy_pose(
    *,
    static_image_mode: bool,
    smooth_landmarks: bool,
    min_detection_confidence: float,
    min_tracking_confidence: float = 0.5,
) -> Any:
    """mediapipe's legacy ``solutions.pose.Pose`` with the full landmark model.

    ``model_complexity=1`` always: it is the only complexity whose weights ship in the
    mediapipe 0.10.14 wheel; 0 and 2 would download theirs at run time.
    """
    return import_mediapipe().solutions.pose.Pose(
        static_image_mode=static_image_mode,
        model_complexity=1,
        smooth_landmarks=smooth_landmarks,
        enable_segmentation=False,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
    )


def landmarks_in_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 33, 3+) normalised landmarks x, y, score -> (N, 33, 3) x, y in pixels and score.

    mediapipe normalises by the image edges (0 is the left edge of the first pixel, 1 the right
    edge of the last), while pixel centres sit at integer coordinates everywhere else here (the
    codec, the overlays), so a pixel is ``x * width - 0.5``. Scores are clipped to [0, 1].
    """
    landmarks = np.asarray(landmarks, np.float32)
    landmarks = landmarks.reshape(-1, NUM_BLAZEPOSE_LANDMARKS, landmarks.shape[-1])
    pixels = np.empty((*landmarks.shape[:2], 3), np.float32)
    pixels[..., :2] = landmarks[..., :2] * np.array([width, height], np.float32) - 0.5
    pixels[..., 2] = np.clip(landmarks[..., 2], 0.0, 1.0)
    return pixels


def solution_landmarks(result: Any) -> np.ndarray:
    """The (N, 33, 3) normalised x, y, visibility of a legacy ``Pose.process`` result (N <= 1)."""
    if result.pose_landmarks is None:
        return np.zeros((0, NUM_BLAZEPOSE_LANDMARKS, 3), np.float32)
    points = result.pose_landmarks.landmark
    return np.array([[(p.x, p.y, p.visibility) for p in points]], np.float32)


def landmarks_to_poses(
    landmarks: np.ndarray, width: int, height: int, box_padding: float = 0.1
) -> FramePoses:
    """(N, 33, 3+) normalised x, y, score -> pose-layout keypoints in pixels plus boxes.

    Boxes cover all 33 landmarks, padded by ``box_padding`` of their extent on each side and
    clipped to the image.
    """
    pixels = landmarks_in_pixels(landmarks, width, height)
    if len(pixels) == 0:
        return FramePoses.empty(NUM_POSE_KEYPOINTS)
    keypoints = pixels[:, list(BLAZEPOSE_TO_POSE)]
    boxes = extent_boxes(pixels[:, :, :2], [box_padding] * 4, (width, height))
    scores = keypoints[:, :, 2].mean(axis=1)
    return FramePoses(keypoints, boxes, scores)


class BlazePoseEstimator:
    """BlazePose (full) on CPU, mapped to the pose layout (COCO-17 + feet). Implements
    ``rhpnet.poses.RgbEstimator``.

    ``max_people`` > 1 needs the ``"tasks"`` backend; ``backend="auto"`` picks the legacy
    solution for one person and Tasks otherwise.
    """

    def __init__(
        self,
        max_people: int = 1,
        *,
        backend: str = "auto",
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        box_padding: float = 0.1,
        smooth_landmarks: bool = False,
    ) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        if backend == "auto":
            backend = DEFAULT_SINGLE_PERSON_BACKEND if max_people == 1 else "tasks"
        if backend not in BACKENDS:
            raise ValueError(f"unknown BlazePose backend {backend!r}; expected {BACKENDS}")
        if backend == "solution" and max_people != 1:
            raise ValueError("the legacy BlazePose solution follows one person; use 'tasks'")
        self.max_people = int(max_people)
        self.backend = backend
        self.box_padding = float(box_padding)
        self._settings = {
            "min_detection_confidence": float(min_detection_confidence),
            "min_tracking_confidence": float(min_tracking_confidence),
            # The Tasks graph always smooths; only the legacy solution can turn it off.
            "smooth_landmarks": bool(smooth_landmarks) if backend == "solution" else True,
        }
        self._mp = import_mediapipe()
        self._last_ms = -1
        self._warm = False
        if backend == "solution":
            # smooth_landmarks=False: mediapipe's filter is causal (it lags fast limbs); the
            # kinematics apply a zero-lag filter instead.
            self._runner = legacy_pose(
                static_image_mode=False,
                smooth_landmarks=smooth_landmarks,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        else:
            self._runner = self._create_landmarker(
                min_detection_confidence, min_tracking_confidence
            )

    def _create_landmarker(self, min_detection: float, min_tracking: float) -> Any:
        from mediapipe.tasks import python as mp_tasks
        from mediapipe.tasks.python import vision

        from rhpnet.estimators.blazepose_bundle import ensure_pose_bundle

        options = vision.PoseLandmarkerOptions(
            base_options=mp_tasks.BaseOptions(model_asset_path=str(ensure_pose_bundle())),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=self.max_people,
            min_pose_detection_confidence=min_detection,
            min_pose_presence_confidence=min_detection,
            min_tracking_confidence=min_tracking,
        )
        with _quiet_native_stderr():
            return vision.PoseLandmarker.create_from_options(options)

    keypoint_names: tuple[str, ...] = POSE_KEYPOINT_NAMES

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        return self.estimate_rgb(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), timestamp_s)

    def estimate_rgb(self, image_rgb: np.ndarray, timestamp_s: float) -> FramePoses:
        height, width = image_rgb.shape[:2]
        run = self._run_solution if self.backend == "solution" else self._run_tasks
        if self._warm:
            landmarks = run(image_rgb, timestamp_s)
        else:  # the first call loads the models and logs about it
            with _quiet_native_stderr():
                landmarks = run(image_rgb, timestamp_s)
            self._warm = True
        return without_duplicates(landmarks_to_poses(landmarks, width, height, self.box_padding))

    def _run_solution(self, image_rgb: np.ndarray, timestamp_s: float) -> np.ndarray:
        return solution_landmarks(self._runner.process(image_rgb))

    def _run_tasks(self, image_rgb: np.ndarray, timestamp_s: float) -> np.ndarray:
        # VIDEO mode needs strictly increasing integer milliseconds.
        ms = max(int(round(timestamp_s * 1000.0)), self._last_ms + 1)
        self._last_ms = ms
        image = self._mp.Image(
            image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image_rgb)
        )
        result = self._runner.detect_for_video(image, ms)
        return np.array(
            [
                [(p.x, p.y, (p.visibility or 0.0) * (p.presence or 0.0)) for p in person]
                for person in result.pose_landmarks
            ],
            np.float32,
        ).reshape(-1, NUM_BLAZEPOSE_LANDMARKS, 3)

    def describe(self) -> dict[str, Any]:
        return {
            "name": "blazepose",
            "model": "pose_landmark_full (BlazePose GHUM 3D, full)",
            "runtime": f"mediapipe {self._mp.__version__} "
            + ("solutions.pose" if self.backend == "solution" else "tasks PoseLandmarker"),
            "backend": self.backend,
            "max_people": self.max_people,
            "keypoints": f"{NUM_POSE_KEYPOINTS} keypoints (COCO-17, heels, foot indices as big "
            "toes) mapped from 33 landmarks",
            **self._settings,
        }

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> BlazePoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
