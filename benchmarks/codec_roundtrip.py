"""Encode -> decode round-trip error of the UDP codec, in heatmap pixels.

Random sub-pixel keypoints are encoded as sigma-2 Gaussian targets and decoded again with
DARK-UDP and with plain argmax, for the COCO (256x192 -> 64x48) and MPII (256x256 -> 64x64)
geometries. Regions: "interior" keeps keypoints 8 heatmap px from the border; "person box" keeps
them inside the unpadded person box (10 % of the crop from each border at padding 1.25);
"anywhere" uses the whole heatmap (DARK-UDP is biased within ~3 px of the border, where its
zero-border blur and edge padding pull the estimate).

    python benchmarks/codec_roundtrip.py [--count 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rhpnet import codec  # noqa: E402

GEOMETRIES = {"coco 64x48": ((256, 192), (64, 48)), "mpii 64x64": ((256, 256), (64, 64))}


def round_trip_errors(
    rng: np.random.Generator,
    count: int,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    margin: tuple[float, float],
) -> dict[str, np.ndarray]:
    """Decoded minus true heatmap location (count, 2) of random keypoints, per decoder."""
    hm_h, hm_w = heatmap_size
    margin_x, margin_y = margin
    truth = np.stack(
        [
            rng.uniform(margin_x, hm_w - 1 - margin_x, count),
            rng.uniform(margin_y, hm_h - 1 - margin_y, count),
        ],
        axis=-1,
    )
    keypoints = codec.heatmap_to_input(truth, input_size, heatmap_size)
    heatmaps, _ = codec.encode_heatmaps(keypoints, np.ones(count), input_size, heatmap_size)
    errors = {}
    for refine in codec.REFINEMENTS:
        decoded, _ = codec.decode_heatmaps(heatmaps, refine=refine)
        errors[refine] = decoded - truth
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20000, help="keypoints per geometry")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(
        f"{'geometry':<12} {'region':<11} {'decoder':<9} "
        f"{'max px':>10} {'mean px':>10} {'max |dx|,|dy|':>14}"
    )
    for name, (input_size, heatmap_size) in GEOMETRIES.items():
        hm_h, hm_w = heatmap_size
        box_margin = (0.1 * (hm_w - 1), 0.1 * (hm_h - 1))
        regions = (("interior", (8.0, 8.0)), ("person box", box_margin), ("anywhere", (0.0, 0.0)))
        for region, margin in regions:
            errors = round_trip_errors(rng, args.count, input_size, heatmap_size, margin)
            for refine, offset in errors.items():
                distance = np.linalg.norm(offset, axis=-1)
                print(
                    f"{name:<12} {region:<11} {refine:<9} {distance.max():>10.6f} "
                    f"{distance.mean():>10.6f} {np.abs(offset).max():>14.6f}"
                )

    heatmaps = rng.random((32, 17, 64, 48), dtype=np.float32)
    repeats = 10
    best = {refine: float("inf") for refine in codec.REFINEMENTS}
    for _ in range(repeats):  # interleaved, so machine load hits both decoders alike
        for refine in codec.REFINEMENTS:
            start = time.perf_counter()
            codec.decode_heatmaps(heatmaps, refine=refine)
            best[refine] = min(best[refine], time.perf_counter() - start)
    print(
        f"decode of 32 x 17 heatmaps 64x48, best of {repeats}: DARK-UDP "
        f"{1000 * best['dark_udp']:.1f} ms, argmax {1000 * best['argmax']:.1f} ms, "
        f"ratio {best['dark_udp'] / best['argmax']:.1f}"
    )


if __name__ == "__main__":
    main()
