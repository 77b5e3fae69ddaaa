"""What a user chooses for an analysis, in one place for the ``analyze`` command and the app.

Light on purpose (no numpy, scipy or OpenCV): the command's parser and the app's settings import
it at start-up, and both must offer exactly the models, devices and ranges the engine accepts.
Every numeric input's limits live in ``LIMITS``: the command line and the engine check them, the
settings dialog takes its spin-box ranges from them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rhpnet.errors import UserFacingError

if TYPE_CHECKING:
    from app.core.tracking import TrackerConfig

MODELS = ("default", "rhpnet", "hrnet")
DEVICES = ("auto", "cpu", "cuda")
# Low-pass cutoff of the kinematics, in real-time Hz (docs/kinematics.md).
DEFAULT_CUTOFF_HZ = 8.0


@dataclass(frozen=True)
class Limit:
    """The values one numeric input accepts, and the everyday range the app's settings offer.

    ``low``..``high`` is what the engine accepts (``low_excluded``: ``low`` itself is not, as for
    a positive factor); ``offered`` narrows it for a spin box, which needs finite ends.
    ``meaning`` says the rule in an error message; ``{low}`` and ``{high}`` are filled in.
    """

    low: float
    high: float = math.inf
    low_excluded: bool = False
    offered: tuple[float, float] | None = None
    meaning: str = ""

    def accepts(self, value: float) -> bool:
        """Inside the limits (NaN never is)."""
        above_low = value > self.low if self.low_excluded else value >= self.low
        return bool(above_low and value <= self.high)

    @property
    def requirement(self) -> str:
        return self.meaning.format(low=f"{self.low:g}", high=f"{self.high:g}")

    @property
    def offered_range(self) -> tuple[float, float]:
        return self.offered or (self.low, self.high)

    def clamp_offered(self, value: float) -> float:
        """``value`` moved into the offered range (a hand-edited or older settings file)."""
        low, high = self.offered_range
        return min(max(value, low), high)


@dataclass(frozen=True)
class InputLimits:
    """Every numeric input of an analysis, with its limits."""

    max_people: Limit = Limit(1, offered=(1, 10), meaning="at least 1")
    slowmo: Limit = Limit(0, low_excluded=True, offered=(1, 64), meaning="a positive factor")
    # Low-pass cutoff of the kinematics, in real-time Hz (docs/kinematics.md).
    cutoff_hz: Limit = Limit(0, low_excluded=True, offered=(1, 30), meaning="positive")
    # Heights a runner can have; anything else is a typo (e.g. metres or inches for centimetres).
    runner_height_cm: Limit = Limit(50, 250, meaning="a human height in cm ({low}-{high})")
    # Worker processes that analyse chunks of one video side by side (docs/engine.md).
    workers: Limit = Limit(1, 64, offered=(1, 64), meaning="{low}-{high}")
    # Seconds of webcam recording before an analysis.
    webcam_duration_s: Limit = Limit(0, low_excluded=True, meaning="positive")
    # Frame rate given to a folder of images (``--fps``).
    image_fps: Limit = Limit(0, low_excluded=True, meaning="a positive frame rate")
    # Frames on each side over which a keypoint moved by hand fades out (docs/corrections.md).
    correction_spread: Limit = Limit(0, 30, offered=(0, 30), meaning="{low}-{high} frames")


LIMITS = InputLimits()


def usable_cores() -> int:
    """CPU cores this process may run on (a container or ``taskset`` may allow fewer than exist)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class AnalysisOptions:
    """What to run. ``model='default'`` is the bundled BlazePose; the networks need a checkpoint."""

    model: str = "default"
    checkpoint: str | None = None
    device: str = "auto"
    max_people: int = 1
    slowmo: float = 1.0
    track_id: int | None = None
    # (x, y, frame): the runner is the person whose box holds that image point in that frame
    pick: tuple[float, float, int] | None = None
    image_fps: float = 30.0
    blazepose_backend: str = "auto"
    # Worker processes for one video; 1 analyses in this process, exactly as always.
    workers: int = 1
    tracker: TrackerConfig | None = None

    def model_settings(self) -> dict[str, Any]:
        """The settings that change keypoints. Stored with every analysis, so a sidecar made with
        other values (by the app or by ``analyze``) is never reused for these."""
        checkpoint = ""
        if self.model != "default" and self.checkpoint:
            checkpoint = str(Path(self.checkpoint).expanduser().resolve())
        return {"model": self.model, "checkpoint": checkpoint, "max_people": int(self.max_people)}

    def validate(self) -> None:
        if self.model not in MODELS:
            raise UserFacingError(
                f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}"
            )
        if self.device not in DEVICES:
            raise UserFacingError(
                f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}"
            )
        if not LIMITS.max_people.accepts(self.max_people):
            raise UserFacingError(
                f"--max-people must be {LIMITS.max_people.requirement}, got {self.max_people}"
            )
        if not LIMITS.slowmo.accepts(self.slowmo):
            raise UserFacingError(
                f"--slowmo must be {LIMITS.slowmo.requirement}, got {self.slowmo}"
            )
        if not LIMITS.workers.accepts(self.workers):
            raise UserFacingError(
                f"--workers must be {LIMITS.workers.requirement}, got {self.workers}"
            )
        if not LIMITS.image_fps.accepts(self.image_fps):
            raise UserFacingError(
                f"--fps must be {LIMITS.image_fps.requirement}, got {self.image_fps}"
            )
        if self.pick is not None and self.pick[2] < 0:
            raise UserFacingError(f"--pick needs a frame index of 0 or more, got {self.pick[2]}")
        if self.model != "default" and not self.checkpoint:
            raise UserFacingError(
                f"--model {self.model} needs --checkpoint PATH (a trained {self.model} checkpoint); "
                "use --model default for the bundled model"
            )
