"""Build the multi-person BlazePose ``.task`` bundle from the models inside the mediapipe wheel.

mediapipe 0.10.14 ships BlazePose's detector and full landmark model as bare ``.tflite`` files
(for its legacy single-person solution). The Tasks ``PoseLandmarker``, which can follow several
people, needs them bundled with image-normalisation metadata. We write that metadata with
mediapipe's own writer and zip the two models exactly as the official bundle names them, so
nothing is ever downloaded. The bundle is built once and cached atomically in the user cache dir;
its file name carries the mediapipe version and a hash of the source models, so a different
wheel builds a fresh one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rhpnet.atomic import atomic_path
from rhpnet.cache import user_cache_dir

DETECTOR_MODEL = ("modules", "pose_detection", "pose_detection.tflite")
LANDMARK_MODEL = ("modules", "pose_landmark", "pose_landmark_full.tflite")
# (file name inside the bundle, input mean, input std): the detector takes [-1, 1] input,
# the landmark model [0, 1], as in mediapipe's own graphs for these two models.
_BUNDLE_LAYOUT = (
    ("pose_detector.tflite", DETECTOR_MODEL, 127.5, 127.5),
    ("pose_landmarks_detector.tflite", LANDMARK_MODEL, 0.0, 255.0),
)


def wheel_model_path(parts: tuple[str, ...]) -> Path:
    """A model file inside the installed mediapipe package."""
    import mediapipe

    path = Path(mediapipe.__file__).parent.joinpath(*parts)
    if not path.is_file():
        from rhpnet.errors import UserFacingError

        raise UserFacingError(
            f"the installed mediapipe lacks {'/'.join(parts)}; install mediapipe==0.10.14"
        )
    return path


def _with_image_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "BlazePose model from the mediapipe wheel")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for index in range(len(writer_utils.get_output_tensor_types(bytearray(model)))):
        writer.add_feature_output(name=f"output_{index}")
    content, _ = writer.populate()
    return bytes(content)


def bundle_path(cache_dir: Path | None = None) -> Path:
    import mediapipe

    digest = hashlib.sha256()
    for _, parts, mean, std in _BUNDLE_LAYOUT:
        digest.update(wheel_model_path(parts).read_bytes())
        digest.update(f"{mean}/{std}".encode())
    folder = cache_dir or user_cache_dir()
    return folder / f"pose_landmarker_full-mp{mediapipe.__version__}-{digest.hexdigest()[:12]}.task"


def ensure_pose_bundle(cache_dir: Path | None = None) -> Path:
    """Path of the cached ``.task`` bundle, building it first if needed (about a second)."""
    target = bundle_path(cache_dir)
    if target.is_file() and target.stat().st_size > 0:
        return target
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    models = {
        name: _with_image_metadata(wheel_model_path(parts).read_bytes(), name, mean, std)
        for name, parts, mean, std in _BUNDLE_LAYOUT
    }
    # Written to a temporary name and renamed: a crash never leaves a half bundle in the cache.
    with atomic_path(target) as tmp:
        model_asset_bundle_utils.create_model_asset_bundle(models, str(tmp))
    return target
