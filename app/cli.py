"""The ``rhpnet-coach`` command: the desktop app by default, headless subcommands otherwise.

Subcommands live in their own modules and are imported only when used, so ``rhpnet-coach
model-info`` never loads Qt and ``rhpnet-coach`` (the GUI) never loads the training code.
Every command module exposes ``main(argv, prog) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rhpnet import __version__
from rhpnet.errors import UserFacingError

COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": (
        "app.commands.analyze",
        "analyse running videos headlessly and export results",
    ),
    "report": (
        "app.commands.report",
        "the athlete's PDF report of a video or its analysis sidecar",
    ),
    "compare": (
        "app.commands.compare",
        "compare two sessions: metrics, differences and gait-cycle curves",
    ),
    "eval": (
        "app.commands.evaluate",
        "measure keypoint accuracy (OKS AP) on a COCO-format set",
    ),
    "train": ("training.cli", "fine-tune RHPNet, preview augmentation, pseudo-label videos"),
    "model-info": ("app.commands.model_info", "parameters and GFLOPs of a network"),
    "weights": ("app.commands.weights", "list and download public HRNet-W32 weights"),
}


def _top_level_parser() -> argparse.ArgumentParser:
    epilog = "commands:\n" + "\n".join(
        f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items()
    )
    epilog += "\n\nRun 'rhpnet-coach COMMAND --help' for a command's options."
    parser = argparse.ArgumentParser(
        prog="rhpnet-coach",
        description="RHPNet Coach: running video analysis. Without a command, opens the desktop app.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("video", nargs="?", help="video file to open in the app")
    parser.add_argument("--version", action="version", version=f"rhpnet-coach {__version__}")
    return parser


def _looks_like_unknown_command(word: str) -> bool:
    return (
        not word.startswith("-") and not os.path.exists(word) and not any(c in word for c in "./\\")
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            module = importlib.import_module(COMMANDS[argv[0]][0])
            return int(module.main(argv[1:], prog=f"rhpnet-coach {argv[0]}") or 0)
        parser = _top_level_parser()
        if argv and _looks_like_unknown_command(argv[0]):
            parser.error(
                f"unknown command or missing file {argv[0]!r} (commands: {', '.join(COMMANDS)})"
            )
        args = parser.parse_args(argv)
        from app.ui.main import run_gui

        return run_gui(args.video)
    except UserFacingError as error:
        print(f"rhpnet-coach: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rhpnet-coach: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
