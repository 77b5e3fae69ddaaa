"""The bundled BlazePose model run on given person boxes (box-prompted, for evaluation).

BlazePose finds its own person in whatever image it is given, so "run it on a box" means: cut a
crop around the box, enlarge small crops, run mediapipe's legacy ``Pose`` (model_complexity=1,
the only complexity whose weights ship in the 0.10.14 wheel), map the 33 landmarks to COCO-17 and
back to image pixels. The output has the shape of ``TopDownEstimator.predict``: (N, 17, 3) with
x, y in image pixels and the landmark visibility as the score, so the ``eval`` command treats the
bundled model and the networks alike.

Every knob of that recipe is a field of ``BoxPromptSettings``; ``DEFAULT_SETTINGS`` is the recipe
chosen by the accuracy study in ``docs/accuracy.md`` and ``BASELINE_SETTINGS`` the plain
crop-and-run it is compared with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from rhpnet.boxes import box_iou, extent_boxes
from rhpnet.estimators.blazepose import landmarks_in_pixels, legacy_pose, solution_landmarks
from rhpnet.oks import AREA_FROM_BOX, keypoint_similarity
from rhpnet.skeleton import (
    BLAZEPOSE_TO_COCO,
    COCO_FLIP_PERMUTATION,
    NUM_COCO_KEYPOINTS,
)

INTERPOLATIONS = ("nearest", "linear", "cubic", "area", "lanczos")


@dataclass(frozen=True)
class BoxPromptSettings:
    """How a person box becomes BlazePose input, and how the outputs are combined.

    Crop geometry:
      context: crop size / box size (per axis, or of the longer side when ``square``).
      square: square crop around the box centre, else the box's own aspect ratio.
      border: where the crop leaves the image, ``pad`` fills with ``pad_value`` (the person stays
        centred), ``clip`` cuts the crop to the image.
      min_side: crops whose longer side is smaller are upscaled to it (larger ones are left
        alone; mediapipe resizes to its 224/256 px inputs itself).
      interpolation: OpenCV interpolation for that upscaling.
    Views (each one a BlazePose run giving a candidate pose):
      scales: context multipliers, one crop each (multi-crop).
      mask_margins: each crop is run once per entry: ``None`` as is, a number m with everything
        farther than m × the box size outside the box blanked, so BlazePose cannot lock onto a
        neighbour.
      flip: also run every view mirrored (mirrored back, left and right swapped).
      fallback_scales: context multipliers tried only when no view finds anybody.
    Combining the candidates:
      select: the anchor candidate: ``first`` view, highest mean ``visibility``, or best
        agreement with the ``box`` (IoU of the keypoints' extent with the prompt box).
      merge: average (visibility-weighted) ``all`` candidates, only those ``agreeing`` with the
        anchor (mean OKS-similarity ≥ ``agreement_oks``), or ``none`` (the anchor alone).
      score: keypoint score = ``visibility``, or visibility × the mean OKS-similarity of all
        candidates to the result (``agreement``: views that disagree mean an unsure pose).
    min_detection_confidence: threshold of BlazePose's own person detector in the crop.
    """

    context: float = 1.4
    square: bool = True
    border: Literal["pad", "clip"] = "pad"
    pad_value: int = 0
    min_side: int = 256
    interpolation: str = "linear"
    scales: tuple[float, ...] = (1.0,)
    mask_margins: tuple[float | None, ...] = (None,)
    flip: bool = False
    fallback_scales: tuple[float, ...] = ()
    select: Literal["first", "visibility", "box"] = "first"
    merge: Literal["all", "agreeing", "none"] = "all"
    agreement_oks: float = 0.9
    score: Literal["visibility", "agreement"] = "visibility"
    min_detection_confidence: float = 0.5

    def __post_init__(self) -> None:
        if self.context <= 0 or not self.scales or any(s <= 0 for s in self.scales):
            raise ValueError("context and scales must be positive")
        if any(s <= 0 for s in self.fallback_scales):
            raise ValueError("fallback scales must be positive")
        if not self.mask_margins or any(m is not None and m < 0 for m in self.mask_margins):
            raise ValueError("mask margins must be None or non-negative")
        choices = {
            "border": ("pad", "clip"),
            "interpolation": INTERPOLATIONS,
            "select": ("first", "visibility", "box"),
            "merge": ("all", "agreeing", "none"),
            "score": ("visibility", "agreement"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")

    @property
    def views_per_box(self) -> int:
        """BlazePose runs per person (fallback views excluded): the cost of these settings."""
        return len(self.scales) * len(self.mask_margins) * (2 if self.flip else 1)

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


# The plain crop-and-run the accuracy study starts from (docs/accuracy.md).
BASELINE_SETTINGS = BoxPromptSettings()

# The study's choice: a crop of the box's own shape with the surroundings blanked (so BlazePose
# locks onto the prompted person), run as is and mirrored; the view whose keypoints fit the box best
# anchors the result, agreeing views are averaged into it, and disagreement lowers the scores.
# Chosen on dev-sportpose, confirmed on the held-out dev-running-lspet (docs/accuracy.md).
DEFAULT_SETTINGS = BoxPromptSettings(
    square=False,
    mask_margins=(0.1,),
    flip=True,
    fallback_scales=(0.9, 1.15),
    select="box",
    merge="agreeing",
    score="agreement",
)


@dataclass(frozen=True)
class Crop:
    """An axis-aligned image region and the scale it is resampled at.

    Pixel centres are integer coordinates in both grids, so image point p maps to crop pixel
    (p - origin + 0.5) * scale - 0.5; ``size`` is the crop in crop pixels.
    """

    origin: tuple[float, float]
    scale: float
    size: tuple[int, int]

    def to_image(self, points_xy: np.ndarray) -> np.ndarray:
        return (points_xy + 0.5) / self.scale - 0.5 + np.asarray(self.origin)

    def to_crop(self, points_xy: np.ndarray) -> np.ndarray:
        return (points_xy - np.asarray(self.origin) + 0.5) * self.scale - 0.5


def crop_for_box(
    box_xywh: np.ndarray,
    image_size: tuple[int, int],
    context: float,
    square: bool,
    border: str,
    min_side: int,
) -> Crop:
    """The crop region for one box: centred on it, ``context`` times larger, upscaled if small."""
    x, y, w, h = (float(v) for v in box_xywh)
    cx, cy = x + w / 2, y + h / 2
    if square:
        w = h = max(w, h)
    half_w, half_h = max(w, 1.0) * context / 2, max(h, 1.0) * context / 2
    x0, y0, x1, y1 = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    if border == "clip":
        width, height = image_size
        x0, y0 = max(x0, 0.0), max(y0, 0.0)
        x1, y1 = min(x1, float(width)), min(y1, float(height))
        if x1 - x0 < 1 or y1 - y0 < 1:
            x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    longer = max(x1 - x0, y1 - y0)
    scale = max(1.0, min_side / longer)
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    return Crop(origin=(x0, y0), scale=scale, size=size)


def extract_crop(
    image_bgr: np.ndarray, crop: Crop, interpolation: str, pad_value: int = 0
) -> np.ndarray:
    """Resample ``crop`` from the image (pixels outside the image take ``pad_value``)."""
    import cv2

    flags = {
        "nearest": cv2.INTER_NEAREST,
        "linear": cv2.INTER_LINEAR,
        "cubic": cv2.INTER_CUBIC,
        "area": cv2.INTER_AREA,
        "lanczos": cv2.INTER_LANCZOS4,
    }[interpolation]
    s = crop.scale
    # The affine map of Crop.to_crop: u = (x - x0 + 0.5) * s - 0.5.
    offset = (np.asarray(crop.origin) * -s) + 0.5 * s - 0.5
    matrix = np.array([[s, 0.0, offset[0]], [0.0, s, offset[1]]], dtype=np.float64)
    return cv2.warpAffine(
        image_bgr,
        matrix,
        crop.size,
        flags=flags,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(pad_value, pad_value, pad_value),
    )


def mask_outside_box(
    crop_bgr: np.ndarray, crop: Crop, box_xywh: np.ndarray, margin: float, value: int
) -> np.ndarray:
    """Blank the crop outside the box grown by ``margin`` × its size on every side."""
    x, y, w, h = (float(v) for v in box_xywh)
    keep = np.array([x - margin * w, y - margin * h, x + w * (1 + margin), y + h * (1 + margin)])
    u0, v0 = crop.to_crop(keep[:2])
    u1, v1 = crop.to_crop(keep[2:])
    height, width = crop_bgr.shape[:2]
    u0, u1 = int(np.clip(np.floor(u0), 0, width)), int(np.clip(np.ceil(u1), 0, width))
    v0, v1 = int(np.clip(np.floor(v0), 0, height)), int(np.clip(np.ceil(v1), 0, height))
    masked = np.full_like(crop_bgr, value)
    masked[v0:v1, u0:u1] = crop_bgr[v0:v1, u0:u1]
    return masked


def pose_similarity(a: np.ndarray, b: np.ndarray, area: float) -> np.ndarray:
    """Per-keypoint OKS terms between two (17, 3) poses of a person of the given area."""
    return keypoint_similarity(a, b, max(area, 1.0))


def combine_candidates(
    candidates: list[np.ndarray], box_xywh: np.ndarray, settings: BoxPromptSettings
) -> np.ndarray | None:
    """One (17, 3) pose from the candidates of all views of one box (None if there are none)."""
    if not candidates:
        return None
    box = np.asarray(box_xywh, dtype=np.float64)
    area = AREA_FROM_BOX * box[2] * box[3]
    if settings.select == "box":
        fit = box_iou(extent_boxes(np.stack(candidates)[:, :, :2]), box)[:, 0]
        anchor = candidates[int(np.argmax(fit))]
    elif settings.select == "visibility":
        anchor = max(candidates, key=lambda c: c[:, 2].mean())
    else:
        anchor = candidates[0]
    if settings.merge == "all":
        group = candidates
    elif settings.merge == "agreeing":
        group = [
            c
            for c in candidates
            if pose_similarity(c, anchor, area).mean() >= settings.agreement_oks
        ]
    else:
        group = [anchor]
    stack = np.stack(group)
    weights = np.clip(stack[:, :, 2:3], 1e-6, None)
    xy = (stack[:, :, :2] * weights).sum(axis=0) / weights.sum(axis=0)
    result = np.concatenate([xy, stack[:, :, 2:3].mean(axis=0)], axis=1)
    if settings.score == "agreement":
        agreement = np.mean([pose_similarity(c, result, area).mean() for c in candidates])
        result[:, 2] *= agreement
    return result


class BlazePoseBoxEstimator:
    """BlazePose (mediapipe 0.10.14 legacy ``Pose``, model_complexity=1) on given person boxes."""

    def __init__(self, settings: BoxPromptSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self._pose = legacy_pose(
            static_image_mode=True,
            smooth_landmarks=False,
            min_detection_confidence=settings.min_detection_confidence,
        )

    def predict(self, image_bgr: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        """(N, 17, 3) keypoints x, y, score in image pixels for N boxes (x, y, w, h).

        A box in which BlazePose finds nobody gets NaN coordinates and score 0.
        """
        boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
        out = np.full((len(boxes), NUM_COCO_KEYPOINTS, 3), np.nan, dtype=np.float32)
        out[:, :, 2] = 0.0
        for index, box in enumerate(boxes):
            candidates = self._candidates(image_bgr, box, self.settings.scales)
            if not candidates and self.settings.fallback_scales:
                candidates = self._candidates(image_bgr, box, self.settings.fallback_scales)
            pose = combine_candidates(candidates, box, self.settings)
            if pose is not None:
                out[index] = pose
        return out

    def _candidates(
        self, image_bgr: np.ndarray, box: np.ndarray, scales: tuple[float, ...]
    ) -> list[np.ndarray]:
        """One pose per view of the box that BlazePose finds a person in, in image pixels."""
        s = self.settings
        height, width = image_bgr.shape[:2]
        candidates = []
        for scale in scales:
            crop = crop_for_box(
                box, (width, height), s.context * scale, s.square, s.border, s.min_side
            )
            pixels = extract_crop(image_bgr, crop, s.interpolation, s.pad_value)
            for margin in s.mask_margins:
                view = pixels
                if margin is not None:
                    view = mask_outside_box(pixels, crop, box, margin, s.pad_value)
                for mirrored in (False, True) if s.flip else (False,):
                    landmarks = self._run(view[:, ::-1] if mirrored else view)
                    if landmarks is None:
                        continue
                    if mirrored:
                        landmarks[:, 0] = crop.size[0] - 1 - landmarks[:, 0]
                        landmarks = landmarks[list(COCO_FLIP_PERMUTATION)]
                    landmarks[:, :2] = crop.to_image(landmarks[:, :2])
                    candidates.append(landmarks)
        return candidates

    def _run(self, crop_bgr: np.ndarray) -> np.ndarray | None:
        """COCO-17 keypoints in crop pixels (x, y, visibility), or None when nobody is found."""
        height, width = crop_bgr.shape[:2]
        rgb = np.ascontiguousarray(crop_bgr[:, :, ::-1])
        landmarks = solution_landmarks(self._pose.process(rgb))
        if len(landmarks) == 0:
            return None
        pixels = landmarks_in_pixels(landmarks, width, height)[0]
        return pixels[list(BLAZEPOSE_TO_COCO)].astype(np.float64)

    def describe(self) -> dict[str, Any]:
        return {
            "name": "blazepose",
            "weights": "mediapipe 0.10.14 pose_landmark_full (model_complexity=1), bundled",
            "prompt": "ground-truth or given person boxes",
            "settings": self.settings.as_dict(),
        }

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
