"""Training throughput of RHPNet-W32 against HRNet-W32 (images per second), measured in one run.

Each step is the trainer's own ``training_step`` (forward, MSE heatmap loss with target weights,
backward, Adam) on synthetic 256x192 crops and UDP-shaped targets, so data loading is left out:
this is the network's training cost. The two networks alternate step by step, so load from
other processes hits both alike; medians and fastest steps are reported with the
RHPNet/HRNet throughput ratio.

CPU: batch 4, float32. CUDA (when available): batch 32, bf16 autocast where supported (else
fp16 with a GradScaler), channels_last.

    python benchmarks/bench_train.py                 # CPU, and CUDA if present
    python benchmarks/bench_train.py --device cpu --steps 5 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine_summary, timed  # noqa: E402
from rhpnet import build_model  # noqa: E402
from training.engine import amp_dtype_for, training_step  # noqa: E402
from training.losses import JointsMSELoss  # noqa: E402

ARCHS = ("hrnet_w32", "rhpnet_w32")
INPUT = (256, 192)


def _setup(arch: str, device: torch.device, channels_last: bool):
    model = build_model(arch).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, optimizer


def measure(device: torch.device, batch: int, steps: int, warmup: int) -> None:
    amp_dtype = amp_dtype_for("auto", device)
    channels_last = device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    criterion = JointsMSELoss()
    images = torch.randn(batch, 3, *INPUT, device=device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    heatmaps = torch.rand(batch, 17, INPUT[0] // 4, INPUT[1] // 4, device=device)
    weights = torch.ones(batch, 17, device=device)
    runs = {arch: _setup(arch, device, channels_last) for arch in ARCHS}
    times: dict[str, list[float]] = {arch: [] for arch in ARCHS}
    for step in range(warmup + steps):
        for arch, (model, optimizer) in runs.items():
            seconds = timed(
                training_step, model, images, heatmaps, weights, device_type=device.type,
                criterion=criterion, optimizer=optimizer, scaler=scaler, amp_dtype=amp_dtype,
            )  # fmt: skip
            if step >= warmup:
                times[arch].append(seconds)
    amp = {None: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[amp_dtype]
    print(f"\n{device.type} batch {batch}, {amp}{', channels_last' if channels_last else ''}, "
          f"{steps} timed steps after {warmup} warm-up")  # fmt: skip
    print(f"{'network':<12} {'median img/s':>13} {'best img/s':>11} {'median s/step':>14}")
    rates = {}
    for arch in ARCHS:
        median, best = statistics.median(times[arch]), min(times[arch])
        rates[arch] = (batch / median, batch / best)
        print(f"{arch:<12} {batch / median:>13.2f} {batch / best:>11.2f} {median:>14.3f}")
    print(
        f"rhpnet/hrnet throughput: median {rates['rhpnet_w32'][0] / rates['hrnet_w32'][0]:.3f}, "
        f"best {rates['rhpnet_w32'][1] / rates['hrnet_w32'][1]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per network")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine_summary())
    if args.device in ("auto", "cpu"):
        measure(torch.device("cpu"), batch=4, steps=args.steps, warmup=args.warmup)
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        print(f"GPU: {torch.cuda.get_device_name()}")
        measure(
            torch.device("cuda"), batch=32, steps=max(args.steps, 20), warmup=max(args.warmup, 5)
        )


if __name__ == "__main__":
    main()
