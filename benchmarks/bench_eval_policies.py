"""Accuracy study of the box-prompted BlazePose pipeline: OKS AP per crop/view/fusion policy.

Reproduces the table of docs/accuracy.md in one command:

    python benchmarks/bench_eval_policies.py [--data DIR] [--only NAME ...] [--json OUT]

Every variant runs the bundled BlazePose model on the ground-truth boxes of dev-sportpose (where
settings were chosen) and dev-running-lspet (held out, never used to choose), and is scored by
pycocotools through ``rhpnet.evaluation``. Variants either change ONE setting of the baseline
(the plain crop-and-run) or remove ONE part of the default pipeline, so each idea is measured on
its own. A paired bootstrap over images then gives a 95 % interval for default − baseline AP.
Times are inference wall time per person (image decoding excluded) on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import find_shared_data  # noqa: E402
from rhpnet.datasets.coco_format import load_coco_keypoints  # noqa: E402
from rhpnet.datasets.keypoint_set import KeypointSet  # noqa: E402
from rhpnet.estimators.blazepose_boxes import (  # noqa: E402
    BASELINE_SETTINGS,
    DEFAULT_SETTINGS,
    BlazePoseBoxEstimator,
    BoxPromptSettings,
)
from rhpnet.evaluation.coco import coco_results, evaluate_keypoints  # noqa: E402
from rhpnet.evaluation.gt_boxes import predict_on_ground_truth_boxes  # noqa: E402

SETS = ("dev-sportpose", "dev-running-lspet")


@dataclass(frozen=True)
class Variant:
    name: str
    group: str
    settings: BoxPromptSettings
    rescore: bool = True


B, D = BASELINE_SETTINGS, DEFAULT_SETTINGS
VARIANTS: tuple[Variant, ...] = (
    Variant("baseline: square 1.4x, pad, >=256 px linear", "baseline", B),
    Variant("instance score = box score (no rescoring)", "scores", B, rescore=False),
    Variant("context 1.2x", "crop", replace(B, context=1.2)),
    Variant("context 1.6x", "crop", replace(B, context=1.6)),
    Variant("context 2.0x", "crop", replace(B, context=2.0)),
    Variant("box aspect kept (not square)", "crop", replace(B, square=False)),
    Variant("clip at image borders", "crop", replace(B, border="clip")),
    Variant("grey padding (127)", "crop", replace(B, pad_value=127)),
    Variant("no upscaling", "upscaling", replace(B, min_side=1)),
    Variant("upscale to 384 px", "upscaling", replace(B, min_side=384)),
    Variant("upscale to 512 px", "upscaling", replace(B, min_side=512)),
    Variant("cubic interpolation", "upscaling", replace(B, interpolation="cubic")),
    Variant("Lanczos interpolation", "upscaling", replace(B, interpolation="lanczos")),
    Variant("flip, average all", "flip", replace(B, flip=True)),
    Variant("3 scales (0.85/1/1.2), average all", "multi-crop", replace(B, scales=(0.85, 1, 1.2))),
    Variant(
        "3 scales, most visible",
        "multi-crop",
        replace(B, scales=(0.85, 1, 1.2), select="visibility", merge="none"),
    ),
    Variant("blank outside box+10%", "person", replace(B, mask_margins=(0.1,))),
    Variant(
        "plain + blanked views, best box fit",
        "person",
        replace(B, mask_margins=(None, 0.1), select="box", merge="none"),
    ),
    Variant("detector confidence 0.3", "mediapipe", replace(B, min_detection_confidence=0.3)),
    Variant("detector confidence 0.1", "mediapipe", replace(B, min_detection_confidence=0.1)),
    Variant("DEFAULT (all of the below)", "default", D),
    Variant("default - aspect kept (square)", "default minus", replace(D, square=True)),
    Variant("default - blanking (plain views)", "default minus", replace(D, mask_margins=(None,))),
    Variant("default + plain views too", "default plus", replace(D, mask_margins=(None, 0.1))),
    Variant("default - flip", "default minus", replace(D, flip=False)),
    Variant("default - box-fit anchor (first view)", "default minus", replace(D, select="first")),
    Variant("default - agreeing-only merge (all)", "default minus", replace(D, merge="all")),
    Variant("default - agreement score", "default minus", replace(D, score="visibility")),
    Variant("default - fallback scales", "default minus", replace(D, fallback_scales=())),
)


def find_data(explicit: str | None) -> Path:
    data = find_shared_data(f"{SETS[0]}/annotations.json", explicit)
    if data is None:
        raise SystemExit(
            "data not found: pass --data DIR holding dev-sportpose/ and dev-running-lspet/"
        )
    return data


def run_variant(variant: Variant, datasets: dict[str, KeypointSet]) -> dict[str, dict]:
    estimator = BlazePoseBoxEstimator(variant.settings)
    rows = {}
    try:
        for name, dataset in datasets.items():
            run = predict_on_ground_truth_boxes(dataset, estimator.predict)
            results = coco_results(run.predictions, rescore=variant.rescore)
            metrics = evaluate_keypoints(dataset, results, image_ids=run.evaluated_image_ids)
            oks = np.array(list(metrics["oks_per_instance"].values()))
            rows[name] = {
                "AP": metrics["AP"],
                "AP50": metrics["AP50"],
                "AP75": metrics["AP75"],
                "AR": metrics["AR"],
                "mean_oks": float(oks.mean()),
                "missed": run.num_missed,
                "ms_per_instance": 1000 * run.seconds_per_instance,
                "results": results,
            }
    finally:
        estimator.close()
    return rows


def paired_bootstrap(
    dataset: KeypointSet, first: list[dict], second: list[dict], draws: int, seed: int = 0
) -> tuple[float, float, float]:
    """95 % interval (and share of draws > 0) of AP(second) - AP(first), resampling images."""
    gt = dataset.ground_truth()
    image_ids = sorted(dataset.images)
    anns = {i: [a for a in gt["annotations"] if a["image_id"] == i] for i in image_ids}
    by_image = [
        {i: [r for r in rs if r["image_id"] == i] for i in image_ids} for rs in (first, second)
    ]
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(draws):
        picks = rng.choice(image_ids, size=len(image_ids), replace=True)
        images, annotations, results = [], [], ([], [])
        for new_id, old_id in enumerate(picks, start=1):
            images.append({"id": new_id})
            annotations += [{**a, "id": len(annotations) + k + 1, "image_id": new_id}
                            for k, a in enumerate(anns[old_id])]  # fmt: skip
            for side in (0, 1):
                results[side].extend({**r, "image_id": new_id} for r in by_image[side][old_id])
        sample = {"images": images, "annotations": annotations, "categories": gt["categories"]}
        ap = [evaluate_keypoints(sample, results[side])["AP"] or 0.0 for side in (0, 1)]
        diffs.append(ap[1] - ap[0])
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high), float(np.mean(np.asarray(diffs) > 0))


def best_of_timing(
    dataset: KeypointSet, variants: list[Variant], repeats: int
) -> dict[str, dict[str, float]]:
    """Wall and CPU ms per person, best of ``repeats`` interleaved passes.

    The best pass is the one least disturbed by other work on the machine; CPU time (all threads
    of this process) is shown too because it barely depends on that other work.
    """
    images = [im for im in dataset.images.values() if dataset.instances_for(im.id)]
    work = [(im.read(), np.array([i.bbox for i in dataset.instances_for(im.id)])) for im in images]
    people = sum(len(boxes) for _, boxes in work)
    estimators = {v.name: BlazePoseBoxEstimator(v.settings) for v in variants}
    best = {name: {"wall_ms": float("inf"), "cpu_ms": float("inf")} for name in estimators}
    try:
        for _ in range(repeats):
            for name, estimator in estimators.items():
                wall, cpu = time.perf_counter(), time.process_time()
                for pixels, boxes in work:
                    estimator.predict(pixels, boxes)
                wall = (time.perf_counter() - wall) / people * 1000
                cpu = (time.process_time() - cpu) / people * 1000
                best[name]["wall_ms"] = min(best[name]["wall_ms"], wall)
                best[name]["cpu_ms"] = min(best[name]["cpu_ms"], cpu)
    finally:
        for estimator in estimators.values():
            estimator.close()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder holding dev-sportpose/ and dev-running-lspet/")
    parser.add_argument("--only", nargs="*", help="run only variants whose name contains these")
    parser.add_argument("--bootstrap", type=int, default=500, help="bootstrap draws (0: none)")
    parser.add_argument("--timing-repeats", type=int, default=3, help="passes for the timing")
    parser.add_argument("--json", help="also write all figures to this JSON file")
    args = parser.parse_args()

    data = find_data(args.data)
    datasets = {name: load_coco_keypoints(data / name) for name in SETS}
    variants = [
        v
        for v in VARIANTS
        if not args.only or v.group == "baseline" or any(w in v.name for w in args.only)
    ]
    print(
        "| variant | AP sportpose (choose) | AP lspet (held out) | mean OKS sportpose / lspet "
        "| not found | BlazePose runs/person | ms/person sportpose / lspet |"
    )
    print("|---|---|---|---|---|---|---|")
    table = {}
    for variant in variants:
        rows = run_variant(variant, datasets)
        table[variant.name] = rows
        sport, lspet = rows[SETS[0]], rows[SETS[1]]
        print(
            f"| {variant.name} | {sport['AP']:.3f} | {lspet['AP']:.3f} "
            f"| {sport['mean_oks']:.3f} / {lspet['mean_oks']:.3f} "
            f"| {sport['missed'] + lspet['missed']} | {variant.settings.views_per_box} "
            f"| {sport['ms_per_instance']:.0f} / {lspet['ms_per_instance']:.0f} |",
            flush=True,
        )

    summary: dict[str, dict] = {}
    base_name, default_name = VARIANTS[0].name, "DEFAULT (all of the below)"
    if args.bootstrap and default_name in table:
        print(f"\npaired bootstrap over images ({args.bootstrap} draws), default - baseline AP:")
        for name, dataset in datasets.items():
            low, high, share = paired_bootstrap(
                dataset,
                table[base_name][name]["results"],
                table[default_name][name]["results"],
                args.bootstrap,
            )
            gain = table[default_name][name]["AP"] - table[base_name][name]["AP"]
            summary[name] = {"gain": gain, "ci95": [low, high], "share_positive": share}
            print(
                f"  {name:<18} {gain:+.3f}  95% interval [{low:+.3f}, {high:+.3f}], "
                f"positive in {100 * share:.0f}% of draws"
            )
    timing: dict[str, dict[str, float]] = {}
    timed = [v for v in VARIANTS if v.group in ("baseline", "default")]
    if args.timing_repeats > 0:
        timing = best_of_timing(datasets[SETS[1]], timed, args.timing_repeats)
        print(f"\ninference time on {SETS[1]}, best of {args.timing_repeats} passes:")
        for name, ms in timing.items():
            print(f"  {name:<46} {ms['wall_ms']:6.1f} ms/person wall, {ms['cpu_ms']:6.1f} ms CPU")
    if args.json:
        from rhpnet.atomic import atomic_write_text

        slim = {
            v: {s: {k: x for k, x in row.items() if k != "results"} for s, row in rows.items()}
            for v, rows in table.items()
        }
        atomic_write_text(
            args.json,
            json.dumps({"variants": slim, "bootstrap": summary, "timing_ms": timing}, indent=1),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
