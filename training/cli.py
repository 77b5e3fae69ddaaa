"""``rhpnet-coach train`` (also ``python -m training`` and ``torchrun -m training``).

Subcommands::

    fit           train or fine-tune RHPNet from a config (single process, or one per GPU
                  under torchrun)
    preview       write a PNG grid of augmented training crops with their targets
    pseudo-label  label frames of your own running videos with the bundled estimator

See docs/training.md for the paper-recipe commands.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rhpnet.errors import UserFacingError

if TYPE_CHECKING:
    from training.config import Config


def _parser(prog: str) -> argparse.ArgumentParser:
    from training.config import available_configs

    configs = ", ".join(available_configs())
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Fine-tune RHPNet, preview its augmentation, pseudo-label your videos.",
        epilog="See docs/training.md for data layouts and the paper-recipe commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        help="train or fine-tune a model",
        description="Train or fine-tune RHPNet/HRNet. Under torchrun, one process per GPU.",
    )
    _config_arguments(fit, configs)
    fit.add_argument(
        "--data", type=Path, required=True, help="training data folder or annotation file"
    )
    fit.add_argument(
        "--val-data", type=Path, help="validation set (default: the val split beside --data)"
    )
    fit.add_argument(
        "--init", default="", help="starting weights: our checkpoint or public HRNet weights"
    )
    fit.add_argument(
        "--init-backbone-only",
        action="store_true",
        help="load only the trunk of --init (e.g. COCO weights for a 16-joint MPII model)",
    )
    fit.add_argument("--out", type=Path, help="run folder (default: runs/<config>)")
    fit.add_argument("--epochs", type=int, help="total epochs (the recipe: 210)")
    fit.add_argument(
        "--batch-size", type=int, help="total batch over all processes (the recipe: 32)"
    )
    fit.add_argument("--workers", type=int, help="data-loading processes per training process")
    fit.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    fit.add_argument(
        "--resume", action="store_true", help="continue the run in --out from latest.pth"
    )
    fit.add_argument("--no-progress", action="store_true", help="no progress bars (log lines only)")

    preview = commands.add_parser(
        "preview",
        help="write a PNG grid of augmented training crops",
        description="Draw what the network sees: augmented crops, target heatmaps and keypoints.",
    )
    _config_arguments(preview, configs)
    preview.add_argument("--data", type=Path, required=True, help="training data folder")
    preview.add_argument("--out", type=Path, required=True, help="PNG file to write")
    preview.add_argument(
        "--count", type=_number(int, 1), default=16, help="number of crops (default 16)"
    )
    preview.add_argument(
        "--epoch", type=_number(int, 0), default=0, help="show this epoch's augmentation"
    )

    pseudo = commands.add_parser(
        "pseudo-label",
        help="make a training set from your own running videos",
        description=(
            "Run the bundled estimator (BlazePose) over videos, keep confident and temporally "
            "consistent poses, write a COCO-format set for 'fit --data'."
        ),
    )
    from training.pseudo_label import PseudoLabelSettings

    defaults = PseudoLabelSettings()
    pseudo.add_argument("videos", nargs="+", type=Path, metavar="VIDEO")
    pseudo.add_argument(
        "--out", type=Path, required=True, help="folder for images/ and annotations.json"
    )
    pseudo.add_argument(
        "--sample-fps",
        type=_number(float, 0, inclusive=False),
        default=defaults.sample_fps,
        help="frames kept per second at most (default %(default)s)",
    )
    pseudo.add_argument(
        "--min-score",
        type=float,
        default=defaults.min_mean_score,
        help="minimum mean keypoint score (default %(default)s)",
    )
    pseudo.add_argument(
        "--min-keypoint-score",
        type=float,
        default=defaults.min_keypoint_score,
        help="keypoints below this score are unlabelled (default %(default)s)",
    )
    pseudo.add_argument(
        "--max-jitter",
        type=float,
        default=defaults.max_jitter,
        help="largest frame-to-frame deviation from smooth motion, relative to the box diagonal (default %(default)s)",
    )
    pseudo.add_argument(
        "--min-keypoints",
        type=int,
        default=defaults.min_keypoints,
        help="labelled keypoints a frame needs (default %(default)s)",
    )
    pseudo.add_argument(
        "--max-frames",
        type=_number(int, 0),
        default=0,
        help="read at most this many frames per video (default: all)",
    )
    return parser


def _number(kind: type, lowest: float, *, inclusive: bool = True) -> Callable[[str], Any]:
    """An argparse type for a number of at least (or, not inclusive, above) ``lowest``, so a
    zero crop count or frame rate is a usage error rather than a crash deep inside."""

    def parse(text: str) -> Any:
        value = kind(text)
        if value < lowest or (value == lowest and not inclusive):
            bound = "at least" if inclusive else "above"
            raise argparse.ArgumentTypeError(f"must be {bound} {lowest}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _config_arguments(parser: argparse.ArgumentParser, configs: str) -> None:
    parser.add_argument("--config", required=True, help=f"config name ({configs}) or TOML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set optim.lr=5e-4 (repeatable)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="narrow model, small input, few steps (smoke runs)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the config's)")


def _resolve_config(args: argparse.Namespace) -> Config:
    """The named config with --set, --tiny and the command-line shortcuts applied, validated
    once at the end so an override cannot slip past the checks."""
    from training.config import load_config, tiny_preset

    config = load_config(args.config, args.overrides)
    if args.tiny:
        config = tiny_preset(config)
    if args.seed is not None:
        config.train.seed = args.seed
    for option, section, key in (
        ("epochs", "optim", "epochs"),
        ("batch_size", "optim", "batch_size"),
        ("workers", "data", "workers"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            setattr(getattr(config, section), key, value)
    config.validate()
    return config


@contextlib.contextmanager
def _console_logging() -> Iterator[None]:
    """Print the ``training`` log lines on stderr for the duration of one command.

    The handler is removed afterwards (and the logger's settings restored), so a process that
    runs several commands, such as a test session, never writes to a stderr that is gone.
    """
    logger = logging.getLogger("training")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _fit(args: argparse.Namespace) -> int:
    from training.engine import FitOptions, fit

    config = _resolve_config(args)
    out = args.out or Path("runs") / config.name.replace("+", "_")
    summary = fit(
        FitOptions(
            config=config,
            data=args.data,
            out=out,
            val_data=args.val_data,
            init=args.init,
            init_backbone_only=args.init_backbone_only,
            resume=args.resume,
            device=args.device,
            progress=not args.no_progress,
        )
    )
    best = (
        "no evaluation"
        if summary.best_metric is None
        else f"best {summary.best_metric:.4f} at epoch {summary.best_epoch}"
    )
    logging.getLogger("training").info(
        "finished %d epochs (%d steps), %s; checkpoints in %s",
        summary.epochs,
        summary.global_step,
        best,
        out,
    )
    return 0


def _preview(args: argparse.Namespace) -> int:
    from training.preview import write_preview

    config = _resolve_config(args)
    path = write_preview(config, args.data, args.out, count=args.count, epoch=args.epoch)
    print(f"wrote {path}")
    return 0


def _pseudo_label(args: argparse.Namespace) -> int:
    from rhpnet.estimators.blazepose import BlazePoseEstimator
    from training.pseudo_label import PseudoLabelSettings, pseudo_label_videos

    settings = PseudoLabelSettings(
        sample_fps=args.sample_fps,
        min_mean_score=args.min_score,
        min_keypoint_score=args.min_keypoint_score,
        max_jitter=args.max_jitter,
        min_keypoints=args.min_keypoints,
        max_frames=args.max_frames,
    )
    with BlazePoseEstimator(max_people=1) as estimator:
        report = pseudo_label_videos(args.videos, args.out, estimator, settings, progress=True)
    for line in report.lines():
        print(line)
    print(f"wrote {report.frames_kept} labelled frames to {report.out}")
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m training") -> int:
    args = _parser(prog).parse_args(list(sys.argv[1:] if argv is None else argv))
    handlers = {"fit": _fit, "preview": _preview, "pseudo-label": _pseudo_label}
    try:
        with _console_logging():
            return handlers[args.command](args)
    except UserFacingError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
