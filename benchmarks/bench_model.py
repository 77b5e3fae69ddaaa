"""Forward speed of RHPNet-W32 against HRNet-W32, measured in the same run.

CPU (default): latency at batch 1 and 8 under ``torch.inference_mode``; the two networks are
timed alternately run by run, so load from other processes hits both alike; medians are
reported with the RHPNet/HRNet ratio, and the fastest runs too (on a shared machine the
minimum is the least disturbed measurement). The MAC ratio (8.05 / 7.65 = 1.053) is the spec's
prediction; ``--breakdown`` shows where the time goes per network part when they differ.

CUDA (``--device cuda``): crops per second at batch 64 in fp16 (autocast) with channels_last,
eager and ``torch.compile``.

    python benchmarks/bench_model.py                      # CPU, batch 1 and 8
    python benchmarks/bench_model.py --breakdown          # plus time per part at batch 1
    python benchmarks/bench_model.py --device cuda        # GPU throughput
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine_summary, timed  # noqa: E402
from rhpnet import build_model  # noqa: E402
from rhpnet.profile import count_params_and_macs  # noqa: E402

ARCHS = ("hrnet_w32", "rhpnet_w32")
CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
CUDA_BATCH = 64

Models = dict[str, nn.Module]


def cpu_latency(
    models: Models,
    batches: list[int],
    size: tuple[int, int],
    warmup: int,
    runs: int,
    clock: Callable[[], float],
) -> None:
    print(
        f"{'batch':>5} {'hrnet_w32 ms':>14} {'rhpnet_w32 ms':>15} {'ratio':>7}"
        f" {'min hrnet':>10} {'min rhpnet':>11} {'min ratio':>10}"
    )
    with torch.inference_mode():
        for batch in batches:
            x = torch.randn(batch, 3, *size)
            for _ in range(warmup):
                for model in models.values():
                    model(x)
            times: dict[str, list[float]] = {arch: [] for arch in ARCHS}
            for _ in range(runs):
                for arch, model in models.items():
                    times[arch].append(timed(model, x, clock=clock))
            hrnet, rhpnet = (statistics.median(times[arch]) * 1000 for arch in ARCHS)
            best_hrnet, best_rhpnet = (min(times[arch]) * 1000 for arch in ARCHS)
            print(
                f"{batch:>5} {hrnet:>14.1f} {rhpnet:>15.1f} {rhpnet / hrnet:>7.3f}"
                f" {best_hrnet:>10.1f} {best_rhpnet:>11.1f} {best_rhpnet / best_hrnet:>10.3f}"
            )


def _timed_parts(model: nn.Module, clock: Callable[[], float]) -> tuple[dict[str, float], list]:
    """Hooks timing each called top-level part (children of ModuleLists count for their list)."""
    spent: dict[str, float] = defaultdict(float)
    starts: dict[str, float] = {}
    handles = []
    for name, module in model.named_modules():
        depth = name.count(".")
        parent_is_list = depth == 1 and isinstance(
            model.get_submodule(name.split(".")[0]), nn.ModuleList
        )
        if not name or isinstance(module, nn.ModuleList) or not (depth == 0 or parent_is_list):
            continue
        part = name.split(".")[0]

        def before(mod, _inputs, key=name):
            starts[key] = clock()

        def after(mod, _inputs, _output, key=name, part=part):
            spent[part] += clock() - starts[key]

        handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    return spent, handles


def cpu_breakdown(
    models: Models, size: tuple[int, int], runs: int, clock: Callable[[], float]
) -> None:
    x = torch.randn(1, 3, *size)
    for arch, model in models.items():
        macs = count_params_and_macs(model, size).macs_by_part
        spent, handles = _timed_parts(model, clock)
        with torch.inference_mode():
            model(x)
            spent.clear()
            total = sum(timed(model, x, clock=clock) for _ in range(runs))
        for handle in handles:
            handle.remove()
        print(f"\n{arch}: {total / runs * 1000:.1f} ms per crop (batch 1)")
        print(f"{'part':<13}{'ms':>8}{'share':>8}{'GMACs':>8}{'GMAC/s':>9}")
        for part, seconds in spent.items():
            ms = seconds / runs * 1000
            gmacs = macs.get(part, 0) / 1e9
            rate = f"{gmacs / (ms / 1000):>9.1f}" if gmacs else f"{'-':>9}"
            print(f"{part:<13}{ms:>8.2f}{seconds / total:>8.1%}{gmacs:>8.3f}{rate}")
        other = total - sum(spent.values())
        print(f"{'(glue ops)':<13}{other / runs * 1000:>8.2f}{other / total:>8.1%}")


def cuda_throughput(models: Models, size: tuple[int, int], warmup: int, runs: int) -> None:
    """Crops/s at batch 64, fp16 autocast, channels_last model and input, eager and compiled.

    The warm-up runs (which include ``torch.compile``'s compilation) are not timed.
    """
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name()}: batch {CUDA_BATCH}, fp16 autocast, channels_last")
    print(f"{'arch':<12}{'mode':<9}{'ms/batch':>10}{'crops/s':>10}")
    x = torch.randn(CUDA_BATCH, 3, *size, device=device).to(memory_format=torch.channels_last)
    on_gpu = {
        arch: model.to(device).to(memory_format=torch.channels_last)
        for arch, model in models.items()
    }
    seconds: dict[tuple[str, str], float] = {}
    for mode in ("eager", "compile"):
        for arch, model in on_gpu.items():
            runner = torch.compile(model) if mode == "compile" else model
            with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
                for _ in range(warmup):
                    runner(x)
                seconds[arch, mode] = statistics.median(
                    timed(runner, x, device_type="cuda") for _ in range(runs)
                )
            per_batch = seconds[arch, mode]
            print(f"{arch:<12}{mode:<9}{per_batch * 1000:>10.2f}{CUDA_BATCH / per_batch:>10.0f}")
    for mode in ("eager", "compile"):
        ratio = seconds["rhpnet_w32", mode] / seconds["hrnet_w32", mode]
        print(f"time ratio rhpnet/hrnet ({mode}): {ratio:.3f}")
    for arch in ARCHS:
        print(f"{arch} compile speed-up: {seconds[arch, 'eager'] / seconds[arch, 'compile']:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="CPU batch sizes")
    parser.add_argument("--input-size", type=int, nargs=2, default=[256, 192], metavar=("H", "W"))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--breakdown", action="store_true", help="CPU time per network part")
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="wall",
        help="'process' counts only this process's CPU time: with --threads 1 it measures the "
        "networks, not the other programs competing for a shared CPU",
    )
    args = parser.parse_args()
    if args.clock == "process" and (args.device == "cuda" or args.threads != 1):
        parser.error("--clock process measures latency only with --threads 1 on the CPU")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("CUDA is not available")
    clock = CLOCKS[args.clock]
    size = tuple(args.input_size)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{machine_summary()}, input {size[0]}x{size[1]}, {args.clock} clock")
    models = {arch: build_model(arch).eval() for arch in ARCHS}
    hrnet_macs, rhpnet_macs = (count_params_and_macs(models[a], size).macs for a in ARCHS)
    print(f"MAC ratio rhpnet/hrnet: {rhpnet_macs / hrnet_macs:.3f}")
    if args.device == "cuda":
        cuda_throughput(models, size, max(args.warmup, 3), args.runs)
        return 0
    cpu_latency(models, args.batches, size, args.warmup, args.runs, clock)
    if args.breakdown:
        cpu_breakdown(models, size, args.runs, clock)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
