"""Find the people beside the most salient ones: look again with everyone found so far covered.

BlazePose's detector returns the few people it is surest of, whatever ``num_poses`` allows: in a
crowded picture a clearly visible person next to those is often not among them (on dev-sportpose
the skier in the middle of a group of five, 242 px tall, is never found, on the whole image or
on any tile). Covering every person already found with the picture's mean colour and running a
fresh detector on what is left shows it the others. Each look covers more, until a look finds no
one new or ``MAX_LOOKS`` have run (docs/accuracy.md, "Person detection").

A person found on a look is kept only where it is not mostly inside a covered box: a detection
there is a piece of someone already found (a limb left outside its box), not a new person. The
cover hides the parts of a new person that reach into someone else's box, so their pose is then
estimated again on the uncovered picture, cropped around them (``CROP_MARGIN``), by an estimator
of its own; where that finds no one matching their box, the look's pose stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rhpnet.boxes import box_intersection, box_iou
from rhpnet.estimators.tiled import shifted
from rhpnet.poses import Estimator, FramePoses, concatenate_poses

MAX_LOOKS = 2
# A new detection with more of its box than this inside a covered box is part of a person found.
MAX_COVERED_SHARE = 0.5
# Of a new person's box size, on every side: the crop their pose is redone on.
CROP_MARGIN = 0.25
MIN_REFINED_IOU = 0.3  # the crop's pose must overlap the look's box this much to replace it


def pixel_extent(
    box: np.ndarray, width: int, height: int, margin: float = 0.0
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the pixels of the (x, y, w, h) ``box``, widened by ``margin`` of its
    size on every side, inside a ``width`` x ``height`` image."""
    x, y, w, h = np.asarray(box, np.float64)
    dx, dy = margin * w, margin * h
    x0, y0 = max(0, int(np.floor(x - dx))), max(0, int(np.floor(y - dy)))
    x1, y1 = min(width, int(np.ceil(x + w + dx))), min(height, int(np.ceil(y + h + dy)))
    return x0, y0, x1, y1


def covered(image_bgr: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """A copy of ``image_bgr`` with each (x, y, w, h) box filled with the image's mean colour."""
    out = image_bgr.copy()
    fill = image_bgr.reshape(-1, image_bgr.shape[-1]).mean(axis=0).astype(image_bgr.dtype)
    height, width = image_bgr.shape[:2]
    for box in np.asarray(boxes, np.float64):
        x0, y0, x1, y1 = pixel_extent(box, width, height)
        if x1 > x0 and y1 > y0:
            out[y0:y1, x0:x1] = fill
    return out


def covered_share(box: np.ndarray, covers: np.ndarray) -> float:
    """The largest share of ``box``'s area (x, y, w, h) inside any one of ``covers``."""
    if len(covers) == 0:
        return 0.0
    area = max(float(box[2]) * float(box[3]), 1e-9)
    return float(box_intersection(box, covers).max() / area)


class LookAgainEstimator:
    """An ``Estimator``: ``first`` on the image, then fresh whole-image looks with the people
    found covered. Each look, and the redoing of the poses it finds, has its own estimator
    (made once by ``make_estimator``), so a video-mode estimator keeps its own tracking."""

    def __init__(
        self, first: Estimator, make_estimator: Callable[[], Estimator], looks: int = MAX_LOOKS
    ) -> None:
        self._first = first
        self._make = make_estimator
        self._looks: list[Estimator] = []
        self._refiners: list[Estimator] = []
        self._max_looks = int(looks)
        self.keypoint_names = first.keypoint_names

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        found = self._first.estimate(image_bgr, timestamp_s)
        refined = 0
        for look in range(self._max_looks):
            if look == len(self._looks):
                self._looks.append(self._make())
            more = self._looks[look].estimate(covered(image_bgr, found.boxes), timestamp_s)
            new = [
                i
                for i in range(len(more))
                if covered_share(more.boxes[i], found.boxes) <= MAX_COVERED_SHARE
            ]
            if not new:
                break
            people = []
            for index in new:
                if refined == len(self._refiners):
                    self._refiners.append(self._make())
                people.append(
                    self._redone(
                        self._refiners[refined], image_bgr, more.select([index]), timestamp_s
                    )
                )
                refined += 1
            found = concatenate_poses([found, *people])
        return found

    @staticmethod
    def _redone(
        estimator: Estimator, image_bgr: np.ndarray, person: FramePoses, timestamp_s: float
    ) -> FramePoses:
        """``person`` (one pose) estimated again on the uncovered image around their box."""
        height, width = image_bgr.shape[:2]
        x0, y0, x1, y1 = pixel_extent(person.boxes[0], width, height, CROP_MARGIN)
        crop = np.ascontiguousarray(image_bgr[y0:y1, x0:x1])
        again = shifted(estimator.estimate(crop, timestamp_s), x0, y0)
        if len(again) == 0:
            return person
        overlap = box_iou(person.boxes[0], again.boxes)[0]
        best = int(np.argmax(overlap))
        return again.select([best]) if overlap[best] >= MIN_REFINED_IOU else person

    def describe(self) -> dict[str, Any]:
        return {
            **self._first.describe(),
            "look_again": f"up to {self._max_looks} looks with the people found covered",
        }

    def close(self) -> None:
        for estimator in [self._first, *self._looks, *self._refiners]:
            estimator.close()
        self._looks, self._refiners = [], []
