"""``rhpnet-coach model-info``: parameters and GFLOPs of a network, or what a checkpoint holds.

GFLOPs follow the HRNet/RHPNet papers: conv + linear multiply-accumulates divided by 2^30
(docs/rhpnet_spec.md §4.2), so hrnet_w32 at 256x192 prints 7.12 and rhpnet_w32 7.50.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

_STEM = ("conv1", "bn1", "conv2", "bn2")


def main(argv: list[str], prog: str) -> int:
    from rhpnet.model import ARCHITECTURES

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Print parameters and MACs/GFLOPs of a network, or describe a checkpoint file.",
    )
    parser.add_argument(
        "--arch",
        choices=list(ARCHITECTURES),
        help="architecture (default: rhpnet_w32, or the checkpoint's own)",
    )
    parser.add_argument(
        "--input-size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="input crop height and width, multiples of 32 (default 256 192, or the checkpoint's)",
    )
    parser.add_argument(
        "--num-keypoints", type=int, help="heatmap channels (default 17, or the checkpoint's)"
    )
    parser.add_argument(
        "--checkpoint", help="describe this checkpoint file (format, metadata, load)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.input_size and (args.input_size[0] % 32 or args.input_size[1] % 32):
        parser.error(f"--input-size must be multiples of 32, got {args.input_size}")
    if args.num_keypoints is not None and args.num_keypoints < 1:
        parser.error("--num-keypoints must be positive")

    report = describe(args.arch, args.input_size, args.num_keypoints, args.checkpoint)
    print(json.dumps(report) if args.json else _as_text(report))
    return 0


def describe(
    arch: str | None,
    input_size: list[int] | None,
    num_keypoints: int | None,
    checkpoint: str | None,
) -> dict[str, Any]:
    """The model-info result as plain data (what ``--json`` prints)."""
    import rhpnet
    from rhpnet.model import DEFAULT_INPUT_SIZE
    from rhpnet.profile import count_params_and_macs

    loaded = None
    if checkpoint:
        loaded = rhpnet.load_checkpoint(checkpoint, arch=arch, num_keypoints=num_keypoints)
        model = loaded.model
        size = tuple(input_size or loaded.meta.input_size)
    else:
        model = rhpnet.build_model(arch or "rhpnet_w32", num_keypoints=num_keypoints or 17)
        size = tuple(input_size or DEFAULT_INPUT_SIZE)
    counts = count_params_and_macs(model, size)
    report: dict[str, Any] = {
        "arch": model.config.arch,
        "input_size": list(size),
        "params": counts.params,
        "macs": counts.macs,
        "gflops_paper": counts.gflops_paper,
        "num_keypoints": model.config.num_keypoints,
        "parts": _parts(counts.params_by_part, counts.macs_by_part),
    }
    if loaded is not None:
        load = loaded.report
        report["checkpoint"] = {
            **loaded.meta.to_dict(),
            "load_report": {
                "summary": load.summary(),
                "loaded": len(load.loaded),
                "warm_started": load.warm_started,
                "random": load.random,
                "ignored": load.ignored,
            },
        }
    return report


def _parts(params: dict[str, int], macs: dict[str, int]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for name in list(params) + [n for n in macs if n not in params]:
        label = "stem" if name in _STEM else name
        row = rows.setdefault(label, {"part": label, "params": 0, "macs": 0})
        row["params"] += params.get(name, 0)
        row["macs"] += macs.get(name, 0)
    return list(rows.values())


def _as_text(report: dict[str, Any]) -> str:
    height, width = report["input_size"]
    lines = [
        f"{report['arch']}: {report['num_keypoints']} keypoints, input {height}x{width} "
        f"-> heatmaps {height // 4}x{width // 4}",
        "",
        f"{'part':<14}{'params':>14}{'MACs':>18}",
    ]
    for row in report["parts"]:
        lines.append(f"{row['part']:<14}{row['params']:>14,}{row['macs']:>18,}")
    lines.append(f"{'total':<14}{report['params']:>14,}{report['macs']:>18,}")
    lines.append("")
    lines.append(
        f"params {report['params'] / 1e6:.2f} M; GFLOPs (paper convention, MACs/2^30) "
        f"{report['gflops_paper']:.2f}; {report['macs'] / 1e9:.3f} x 10^9 MACs"
    )
    checkpoint = report.get("checkpoint")
    if checkpoint:
        names = checkpoint["keypoint_names"]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        fields = [
            ("checkpoint", checkpoint["path"]),
            ("format", checkpoint["source_format"]),
            ("arch", checkpoint["arch"]),
            ("keypoints", f"{checkpoint['num_keypoints']} ({shown})"),
            ("input size", _input_size_text(checkpoint)),
            ("written by", f"rhpnet {checkpoint['rhpnet_version'] or '-'}"),
            ("recipe", json.dumps(checkpoint["recipe"]) if checkpoint["recipe"] else "-"),
            ("extra", json.dumps(checkpoint["extra"]) if checkpoint["extra"] else "-"),
            ("loading", checkpoint["load_report"]["summary"]),
        ]
        lines.append("")
        lines.extend(f"{key:<12}{value}" for key, value in fields)
    return "\n".join(lines)


def _input_size_text(checkpoint: dict[str, Any]) -> str:
    (height, width), (heat_h, heat_w) = checkpoint["input_size"], checkpoint["heatmap_size"]
    text = f"{height}x{width}, heatmaps {heat_h}x{heat_w}"
    if checkpoint["source_format"] != "rhpnet-coach":
        text += " (assumed: public weights do not record it; they were trained at 256x192)"
    return text
