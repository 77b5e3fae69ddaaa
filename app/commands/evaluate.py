"""``rhpnet-coach eval``: keypoint accuracy (OKS AP/AR, pycocotools) on a COCO-format set.

The estimator runs on the set's ground-truth person boxes, so the figures measure pose accuracy
alone, not person detection. The bundled model (``--model default``) is the box-prompted BlazePose
pipeline of ``rhpnet.estimators.blazepose_boxes``; ``--model rhpnet|hrnet`` runs a trained
network from ``--checkpoint`` through ``TopDownEstimator``. Metrics come from
``rhpnet.evaluation.coco``, the same code the training loop validates with (docs/accuracy.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.core.options import LIMITS, MODELS
from rhpnet.errors import CheckpointError, UserFacingError
from rhpnet.poses import BoxPromptedEstimator
from rhpnet.skeleton import COCO_KEYPOINT_NAMES


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a pose model on the ground-truth person boxes of a COCO-format keypoint "
        "set and print OKS AP/AR (pycocotools).",
    )
    parser.add_argument(
        "--coco",
        required=True,
        type=Path,
        metavar="DIR",
        help="COCO-format set: a folder with annotations.json and images/",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="default",
        help="the bundled BlazePose pipeline (default) or a trained network (needs --checkpoint)",
    )
    parser.add_argument("--checkpoint", metavar="PATH", help="weights for --model rhpnet|hrnet")
    parser.add_argument(
        "--no-flip", action="store_true", help="skip the mirrored second pass (faster, less exact)"
    )
    parser.add_argument(
        "--json", type=Path, metavar="OUT", help="also write the metrics, model and settings here"
    )
    parser.add_argument(
        "--detect",
        action="store_true",
        help="also score the app's own person detection (no ground-truth boxes) on the images "
        "whose annotations name every person: AP and recall next to the ground-truth-box AP",
    )
    parser.add_argument(
        "--tiles",
        action="store_true",
        help="with --detect: also look in 2x2 overlapping tiles (small people; about 5x slower)",
    )
    parser.add_argument(
        "--look-again",
        action="store_true",
        help="with --detect: look again with the people found covered (crowds; up to 3x slower)",
    )
    parser.add_argument(
        "--max-people",
        type=int,
        default=1,
        metavar="N",
        help="people the detector may find per image with --detect (1, as analyze)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="auto | cpu | cuda | cuda:N | mps, for networks (BlazePose always runs on the CPU)",
    )
    return parser


@dataclass
class BoxEstimator:
    """What the evaluation needs from a model: box-prompted prediction, provenance, cleanup."""

    model: BoxPromptedEstimator
    label: str
    description: dict[str, Any]
    close: Callable[[], None]


def open_estimator(model: str, checkpoint: str | None, flip: bool, device: str) -> BoxEstimator:
    if model == "default":
        if checkpoint:
            raise UserFacingError(
                "--checkpoint is for --model rhpnet|hrnet; the default is bundled"
            )
        return _bundled_blazepose(flip)
    if not checkpoint:
        raise UserFacingError(f"--model {model} needs --checkpoint PATH (trained weights)")
    return _network(model, checkpoint, flip, device)


def _bundled_blazepose(flip: bool) -> BoxEstimator:
    os.environ.setdefault("GLOG_minloglevel", "2")
    from rhpnet.estimators.blazepose_boxes import DEFAULT_SETTINGS, BlazePoseBoxEstimator

    estimator = BlazePoseBoxEstimator(replace(DEFAULT_SETTINGS, flip=flip))
    label = "bundled BlazePose (full), box-prompted" + (", with flip" if flip else ", no flip")
    return BoxEstimator(estimator, label, estimator.describe(), estimator.close)


def _network(family: str, checkpoint: str, flip: bool, device: str) -> BoxEstimator:
    import rhpnet
    from rhpnet.estimators.topdown import TopDownEstimator

    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {checkpoint}")
    loaded = rhpnet.load_checkpoint(path)
    estimator = TopDownEstimator(loaded.model, meta=loaded.meta, device=device, flip_test=flip)
    arch = estimator.arch or "unknown"
    if not arch.startswith(family):
        raise CheckpointError(
            f"{checkpoint} holds {arch} weights, not {family}: use --model {arch.split('_')[0]}"
        )
    if estimator.keypoint_names != COCO_KEYPOINT_NAMES:
        raise CheckpointError(
            f"{checkpoint} predicts {estimator.num_keypoints} keypoints "
            f"({estimator.keypoint_names[0]}, ...), not the 17 COCO keypoints a COCO-format set "
            "is scored on"
        )
    report = loaded.report
    if not report.complete:
        print(f"warning: {checkpoint}: {report.summary()}", file=sys.stderr)
    description = {
        **estimator.describe(),
        "name": arch,
        "checkpoint": str(path.resolve()),
        "checkpoint_format": report.source_format,
        "load_report": report.summary(),
    }
    label = f"{arch} from {path.name}, flip test {'on' if flip else 'off'}"
    return BoxEstimator(estimator, label, description, lambda: None)


def format_report(metrics: dict[str, Any], dataset_name: str, model_name: str) -> str:
    """The metrics as a small readable table (AP and AR side by side)."""

    def cell(name: str) -> str:
        value = metrics.get(name)
        return "  n/a" if value is None else f"{value:.3f}"

    rows = [("OKS 0.50:0.95", ""), ("OKS 0.50", "50"), ("OKS 0.75", "75")]
    rows += [("medium people", "_M"), ("large people", "_L")]
    lines = [
        f"OKS keypoint accuracy on {dataset_name}: {metrics['num_images']} images, "
        f"{metrics['num_instances']} people, ground-truth boxes",
        f"model: {model_name}",
        "",
        f"  {'':<15} {'AP':>6} {'AR':>6}",
    ]
    lines += [f"  {label:<15} {cell('AP' + key):>6} {cell('AR' + key):>6}" for label, key in rows]
    lines += [
        "",
        f"{metrics['seconds_per_instance'] * 1000:.0f} ms per person; "
        f"{metrics['num_missed']} of {metrics['num_instances']} people not found",
    ]
    return "\n".join(lines)


def main(argv: list[str], prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    if (args.tiles or args.look_again) and not args.detect:
        raise UserFacingError("--tiles and --look-again change the detection: add --detect")
    from rhpnet import __version__
    from rhpnet.datasets.coco_format import load_coco_keypoints
    from rhpnet.evaluation.coco import METRIC_NAMES
    from rhpnet.evaluation.gt_boxes import evaluate_on_ground_truth_boxes

    dataset = load_coco_keypoints(args.coco)  # logs what it skipped
    if args.detect:
        return _detect_main(args, dataset)
    estimator = open_estimator(args.model, args.checkpoint, not args.no_flip, args.device)
    try:
        metrics, run = evaluate_on_ground_truth_boxes(
            dataset, estimator.model.predict, progress=True
        )
    finally:
        estimator.close()
    print(format_report(metrics, dataset.root.name, estimator.label))
    if args.json:
        record = {
            "dataset": {
                "path": str(dataset.root.resolve()),
                "annotations": str(dataset.annotation_file.resolve()),
                "images": metrics["num_images"],
                "people": metrics["num_instances"],
                "skipped_annotations": dict(dataset.skipped.counts),
                "unreadable_images": run.unreadable_images,
            },
            "metrics": {name: metrics[name] for name in METRIC_NAMES},
            "people_not_found": metrics["num_missed"],
            "seconds_per_person": metrics["seconds_per_instance"],
            "oks_per_instance": {str(k): v for k, v in metrics["oks_per_instance"].items()},
            "model": estimator.description,
            "settings": {
                "model": args.model,
                "flip": not args.no_flip,
                "boxes": "ground truth",
                "instance_score": "box score x mean keypoint score above 0.2 (rescoring)",
                "oks_sigmas": "COCO (rhpnet.skeleton.COCO_OKS_SIGMAS)",
                "device": args.device,
            },
            "rhpnet_version": __version__,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _write_record(args.json, record)
    return 0


def _detect_main(args: argparse.Namespace, dataset: Any) -> int:
    """``--detect``: ground-truth-box AP and detection AP and recall on the same images."""
    from rhpnet.evaluation.detected import MIN_HEIGHT_PX, evaluate_detected, fully_annotated
    from rhpnet.evaluation.gt_boxes import evaluate_on_ground_truth_boxes

    if args.model != "default":
        raise UserFacingError("--detect runs the app's bundled detector: use --model default")
    if not LIMITS.max_people.accepts(args.max_people):
        raise UserFacingError(
            f"--max-people must be {LIMITS.max_people.requirement}, got {args.max_people}"
        )
    subset = fully_annotated(dataset)
    estimator = open_estimator(args.model, args.checkpoint, not args.no_flip, args.device)
    try:
        boxed, _ = evaluate_on_ground_truth_boxes(subset, estimator.model.predict, progress=True)
    finally:
        estimator.close()
    detect = _fresh_blazepose(args.max_people, args.tiles, args.look_again)
    detected, recall = evaluate_detected(subset, detect, progress=True)
    print(
        format_detect_report(
            boxed,
            detected,
            recall,
            subset.root.name,
            args.max_people,
            args.tiles,
            args.look_again,
        )
    )
    if args.json:
        record = {
            "dataset": str(subset.root.resolve()),
            "images": detected["num_images"],
            "people": detected["num_instances"],
            "ground_truth_boxes": {"AP": boxed["AP"], "AP50": boxed["AP50"]},
            "detected": {
                "AP": detected["AP"],
                "AP50": detected["AP50"],
                "seconds_per_image": detected["seconds_per_image"],
            },
            "recall": {key: {"found": r.found, "people": r.people} for key, r in recall.items()},
            "min_height_px": MIN_HEIGHT_PX,
            "max_people": args.max_people,
            "tiles": args.tiles,
            "look_again": args.look_again,
        }
        _write_record(args.json, record)
    return 0


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from rhpnet.atomic import atomic_write_text

    try:
        atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    except OSError as error:
        raise UserFacingError(f"cannot write {path}: {error.strerror or error}") from None
    print(f"metrics written to {path}")


def _fresh_blazepose(max_people: int, tiles: bool, look_again: bool = False) -> Callable:
    """The app's BlazePose (tiled, looking again, if asked), new for every image: its video-mode
    tracking must not carry a person from one unrelated image into the next."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    from rhpnet.estimators.blazepose import BlazePoseEstimator
    from rhpnet.estimators.look_again import LookAgainEstimator
    from rhpnet.estimators.tiled import TiledEstimator

    def make() -> BlazePoseEstimator:
        return BlazePoseEstimator(max_people, backend="tasks")

    def detect(image: Any) -> Any:
        estimator = TiledEstimator(make) if tiles else make()
        if look_again:
            estimator = LookAgainEstimator(estimator, make)
        try:
            return estimator.estimate(image, 0.0)
        finally:
            estimator.close()

    return detect


def format_detect_report(
    boxed: dict[str, Any],
    detected: dict[str, Any],
    recall: dict,
    name: str,
    max_people: int,
    tiles: bool = False,
    look_again: bool = False,
) -> str:
    def cell(value: float | None) -> str:
        return "  n/a" if value is None else f"{value:.3f}"

    lines = [
        f"Person detection on {name}: {detected['num_images']} images whose every person is "
        f"annotated, {detected['num_instances']} people; detector: bundled BlazePose, up to "
        f"{max_people} per image"
        + (" in each of the frame and 2x2 tiles" if tiles else "")
        + (", looking again with the people found covered" if look_again else ""),
        "",
        f"  {'':<22} {'AP':>6} {'AP50':>6}",
        f"  {'ground-truth boxes':<22} {cell(boxed['AP']):>6} {cell(boxed['AP50']):>6}",
        f"  {'own detection':<22} {cell(detected['AP']):>6} {cell(detected['AP50']):>6}",
        "",
    ]
    for key, label in (("all", "all people"), ("at_least_60px", "people >= 60 px tall")):
        r = recall[key]
        value = "n/a" if r.value is None else f"{r.value:.2f}"
        lines.append(f"recall (OKS >= 0.5), {label}: {value} ({r.found} of {r.people})")
    lines.append(f"{detected['seconds_per_image'] * 1000:.0f} ms per image")
    return "\n".join(lines)
