"""Top-down inference: person boxes in one image -> keypoints in image pixels.

Pipeline (one code path for the app and for training-time evaluation)::

    boxes --codec crop--> normalised crops (N, 3, h, w) + centres/scales
          --heatmaps()--> batched forward [+ flip test] -> heatmaps (N, K, H, W)
          --decode------> argmax [+ DARK-UDP] -> heatmap px -> image px (N, K, 3)

``predict(image, boxes)`` runs all of it. Training evaluation, whose data loader already
produces the crops, calls ``predict_crops(inputs, centers, scales)``: the same forward, flip and
decode code as the app, so reported accuracy is the accuracy users get.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rhpnet import codec
from rhpnet.checkpoints import CheckpointMeta
from rhpnet.device import resolve_device
from rhpnet.model import DEFAULT_INPUT_SIZE
from rhpnet.model.hrnet import HRNetTrunk
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, flip_pairs_from_names, flip_permutation


@dataclass
class CropBatch:
    """Network inputs for a set of boxes and the geometry needed to map results back.

    inputs: (N, 3, h, w) float32 normalised RGB crops; centers, scales: (N, 2) in image pixels.
    """

    inputs: np.ndarray
    centers: np.ndarray
    scales: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)


def crop_boxes(
    image_bgr: np.ndarray,
    boxes_xywh: np.ndarray,
    input_size: tuple[int, int] = DEFAULT_INPUT_SIZE,
    padding: float = codec.DEFAULT_PADDING,
) -> CropBatch:
    """Cut one UDP crop per box (aspect fixed to the input, ``padding`` around it), normalised."""
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    in_h, in_w = input_size
    centers, scales = codec.box_to_center_scale(boxes, in_w / in_h, padding)
    matrices = codec.udp_warp_matrix(centers, scales, input_size)
    crops = codec.warp_crops(image_bgr, matrices, input_size)
    return CropBatch(codec.normalize_crops(crops), centers, scales)


class TopDownEstimator:
    """Runs a heatmap network (HRNet, RHPNet) on person boxes of single images.

    model: ``nn.Module`` mapping (N, 3, h, w) to (N, K, h/4, w/4). It is moved to ``device``
    (and to channels_last on CUDA). meta: the ``CheckpointMeta`` of a model from
    ``rhpnet.load_checkpoint``, whose ``input_size`` (height, width), ``keypoint_names`` and
    ``flip_pairs`` are the defaults; without it 256x192 and COCO-17. Flip pairs come from the skeleton tables for COCO
    and MPII keypoint names; other keypoint sets need ``flip_pairs`` or ``flip_test=False``.
    device: ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"`` (see ``rhpnet.device``).
    flip_test: also run the mirrored crop and average the mirrored-back heatmaps (docs/rhpnet_spec.md §9).
    refine: ``"dark_udp"`` (sub-pixel, default) or ``"argmax"`` (the paper's plain argmax).
    batch_size: crops per forward pass (the flip test doubles the pass to 2 x batch_size).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        meta: CheckpointMeta | None = None,
        input_size: tuple[int, int] | None = None,
        device: str | torch.device = "auto",
        flip_test: bool = True,
        refine: codec.Refinement = "dark_udp",
        batch_size: int = 32,
        keypoint_names: Sequence[str] | None = None,
        flip_pairs: Sequence[tuple[int, int]] | None = None,
        box_padding: float = codec.DEFAULT_PADDING,
        sigma: float = codec.DEFAULT_SIGMA,
    ) -> None:
        if refine not in codec.REFINEMENTS:
            raise ValueError(f"unknown refinement {refine!r}; expected one of {codec.REFINEMENTS}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.meta = meta
        self.input_size = _checked_input_size(
            input_size or (meta.input_size if meta else None) or DEFAULT_INPUT_SIZE
        )
        self.keypoint_names: tuple[str, ...] = tuple(
            keypoint_names or (meta.keypoint_names if meta else None) or COCO_KEYPOINT_NAMES
        )
        self.flip_test = bool(flip_test)
        if flip_pairs is None:
            flip_pairs = (meta.flip_pairs if meta else None) or flip_pairs_from_names(
                self.keypoint_names
            )
        pairs = tuple(map(tuple, flip_pairs))
        if not pairs and self.flip_test:
            raise ValueError(
                "flip test needs the left/right pairs of these keypoints "
                f"({', '.join(self.keypoint_names)}): pass flip_pairs= or flip_test=False"
            )
        self.flip_permutation: tuple[int, ...] = tuple(flip_permutation(pairs, self.num_keypoints))
        self.refine: codec.Refinement = refine
        self.batch_size = int(batch_size)
        self.box_padding = float(box_padding)
        self.sigma = float(sigma)
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str], *, arch: str | None = None, **settings: Any
    ) -> TopDownEstimator:
        """Load a checkpoint (any format ``rhpnet.load_checkpoint`` reads) and wrap it."""
        import rhpnet

        loaded = rhpnet.load_checkpoint(path, arch=arch)
        return cls(loaded.model, meta=loaded.meta, **settings)

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    @property
    def arch(self) -> str | None:
        """Architecture name from the checkpoint or the model's build config, if known."""
        if self.meta is not None:
            return self.meta.arch
        if isinstance(self.model, HRNetTrunk):
            return self.model.config.arch
        return None

    def predict(self, image_bgr: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        """Keypoints (N, K, 3) as x, y in image pixels and the heatmap peak as score.

        image_bgr: (H, W, 3) uint8 BGR (a (H, W) grey image is accepted); boxes_xywh: (N, 4)
        person boxes x, y, width, height in image pixels, any of them partly or wholly outside
        the image. No boxes -> an empty (0, K, 3) array without running the network.
        """
        image = _checked_image(image_bgr)
        boxes = np.asarray(boxes_xywh, dtype=np.float64)
        if boxes.size % 4 != 0 or (boxes.ndim > 1 and boxes.shape[-1] != 4):
            raise ValueError(f"expected boxes shaped (N, 4) as x, y, w, h, got {boxes.shape}")
        boxes = boxes.reshape(-1, 4)
        results = [np.zeros((0, self.num_keypoints, 3), dtype=np.float32)]
        for start in range(0, len(boxes), self.batch_size):
            batch = crop_boxes(
                image, boxes[start : start + self.batch_size], self.input_size, self.box_padding
            )
            results.append(self.predict_crops(batch.inputs, batch.centers, batch.scales))
        return np.concatenate(results, axis=0)

    def predict_crops(
        self,
        inputs: np.ndarray | torch.Tensor,
        centers: np.ndarray,
        scales: np.ndarray,
    ) -> np.ndarray:
        """Keypoints (N, K, 3) in image pixels from ready-made unrotated crops.

        inputs: (N, 3, h, w) normalised crops (``codec.normalize_crops`` of ``codec`` warps);
        centers, scales: (N, 2) crop geometry in image pixels (``codec.box_to_center_scale``).
        """
        if len(inputs) == 0:
            return np.zeros((0, self.num_keypoints, 3), dtype=np.float32)
        heatmaps = self.heatmaps(inputs)
        coords, scores = codec.decode_heatmaps(heatmaps, self.refine, self.sigma)
        xy = codec.heatmap_to_image(coords, centers, scales, heatmaps.shape[-2:])
        return np.concatenate([xy, scores[..., None]], axis=-1).astype(np.float32)

    def heatmaps(self, inputs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Heatmaps (N, K, H, W) float32 for normalised crops, flip-test averaged if enabled."""
        if isinstance(inputs, np.ndarray):
            inputs = np.ascontiguousarray(inputs)
        batch = torch.as_tensor(inputs)
        if batch.ndim != 4 or batch.shape[1] != 3:
            raise ValueError(f"expected crops shaped (N, 3, h, w), got {tuple(batch.shape)}")
        outputs = []
        with torch.inference_mode(), _evaluation_mode(self.model):
            for start in range(0, len(batch), self.batch_size):
                chunk = batch[start : start + self.batch_size].to(self.device, torch.float32)
                outputs.append(self._heatmaps_of_chunk(chunk).cpu())
        if not outputs:
            raise ValueError("no crops given")
        return torch.cat(outputs).numpy()

    def describe(self) -> dict[str, Any]:
        """Settings that shape the output, for provenance records."""
        return {
            "arch": self.arch,
            "checkpoint": self.meta.path if self.meta else None,
            "input_size": list(self.input_size),
            "keypoints": self.num_keypoints,
            "flip_test": self.flip_test,
            "refine": self.refine,
            "box_padding": self.box_padding,
            "device": str(self.device),
        }

    def _heatmaps_of_chunk(self, chunk: torch.Tensor) -> torch.Tensor:
        if not self.flip_test:
            return self._forward(chunk)
        both = self._forward(torch.cat([chunk, chunk.flip(3)]))
        direct, mirrored = both[: len(chunk)], both[len(chunk) :]
        permutation = torch.as_tensor(self.flip_permutation, device=mirrored.device)
        mirrored_back = mirrored.index_select(1, permutation).flip(3)
        return (direct + mirrored_back) * 0.5

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            batch = batch.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=torch.float16):
                heatmaps = self.model(batch)
        else:
            heatmaps = self.model(batch)
        if heatmaps.ndim != 4 or heatmaps.shape[:2] != (len(batch), self.num_keypoints):
            raise ValueError(
                f"the network returned {tuple(heatmaps.shape)} for {len(batch)} crops; expected "
                f"heatmaps shaped (N, {self.num_keypoints}, H, W) for keypoints "
                f"{', '.join(self.keypoint_names)}"
            )
        return heatmaps.float()


@contextmanager
def _evaluation_mode(model: torch.nn.Module) -> Iterator[None]:
    """Run in eval mode (frozen BatchNorm statistics) and restore the caller's mode after, so a
    training loop can evaluate its own model mid-training."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _checked_input_size(size: Sequence[int]) -> tuple[int, int]:
    height, width = (int(v) for v in size)
    if height < 2 or width < 2:
        raise ValueError(f"input size must be at least 2x2 (height, width), got {tuple(size)}")
    return height, width


def _checked_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected a BGR image shaped (H, W, 3), got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    return np.ascontiguousarray(image)
