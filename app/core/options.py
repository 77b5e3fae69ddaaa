"""What a user chooses for an analysis, in one place for the ``analyze`` command and the app.

Light on purpose (no numpy, scipy or OpenCV): the command's parser and the app's settings import
it at start-up, and both must offer exactly the models, devices and ranges the engine accepts.
"""

from __future__ import annotations

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
# Heights a runner can have; anything else is a typo (e.g. metres or inches for centimetres).
RUNNER_HEIGHT_RANGE_CM = (50.0, 250.0)


@dataclass
class AnalysisOptions:
    """What to run. ``model='default'`` is the bundled BlazePose; the networks need a checkpoint."""

    model: str = "default"
    checkpoint: str | None = None
    device: str = "auto"
    max_people: int = 1
    slowmo: float = 1.0
    track_id: int | None = None
    image_fps: float = 30.0
    blazepose_backend: str = "auto"
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
        if self.max_people < 1:
            raise UserFacingError(f"--max-people must be at least 1, got {self.max_people}")
        if not self.slowmo > 0:
            raise UserFacingError(f"--slowmo must be a positive factor, got {self.slowmo}")
        if self.model != "default" and not self.checkpoint:
            raise UserFacingError(
                f"--model {self.model} needs --checkpoint PATH (a trained {self.model} checkpoint); "
                "use --model default for the bundled model"
            )
