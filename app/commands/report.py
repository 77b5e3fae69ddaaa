"""``rhpnet-coach report``: the athlete's PDF report of a video or of its analysis sidecar.

Writes ``<stem>.report.pdf`` into ``--out`` (docs/report.md): summary and metrics in plain words,
key frames of a typical step with the skeleton drawn, the gait-cycle curves and, with
``--compare OTHER``, the comparison with a second session. A video without a sidecar is
analysed first (its sidecar is saved, so the next command is immediate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.options import DEFAULT_CUTOFF_HZ, LIMITS


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by the commands that read a video or a sidecar."""
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--slowmo",
        type=float,
        metavar="FACTOR",
        help="slow-motion factor of the footage (default: the one the analysis was made with)",
    )
    parser.add_argument(
        "--runner-height-cm", type=float, metavar="CM", help="the runner's height (cm)"
    )
    parser.add_argument(
        "--cutoff-hz",
        type=float,
        default=DEFAULT_CUTOFF_HZ,
        metavar="HZ",
        help=f"low-pass cutoff of the kinematics in real-time Hz ({DEFAULT_CUTOFF_HZ:g})",
    )


def check_session_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.slowmo is not None and not LIMITS.slowmo.accepts(args.slowmo):
        parser.error(f"--slowmo must be {LIMITS.slowmo.requirement}")
    check_kinematics_arguments(parser, args)


def check_kinematics_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--cutoff-hz`` and ``--runner-height-cm`` within ``LIMITS``: every command that builds a
    running report (analyze, report, compare) takes them."""
    if not LIMITS.cutoff_hz.accepts(args.cutoff_hz):
        parser.error(f"--cutoff-hz must be {LIMITS.cutoff_hz.requirement}")
    height = args.runner_height_cm
    if height is not None and not LIMITS.runner_height_cm.accepts(height):
        parser.error(f"--runner-height-cm must be {LIMITS.runner_height_cm.requirement}")


def session_report(path: str, args: argparse.Namespace):
    """(analysis, running report) of a video or sidecar, with the command's options."""
    from app.core.analysis_input import load_analysis
    from app.core.running_report import build_report

    analysis = load_analysis(path, slowmo=args.slowmo)
    report = build_report(
        analysis, runner_height_cm=args.runner_height_cm, cutoff_hz=args.cutoff_hz
    )
    return analysis, report


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write the athlete's PDF report of a running video (or its "
        "<stem>.analysis.npz sidecar): metrics in plain words, key frames, gait-cycle curves.",
    )
    parser.add_argument("input", metavar="VIDEO_OR_SIDECAR")
    add_session_arguments(parser)
    parser.add_argument("--runner", metavar="NAME", help="the runner's name, shown in the report")
    parser.add_argument(
        "--compare", metavar="OTHER", help="a second video or sidecar to compare with"
    )
    return parser


def main(argv: list[str], prog: str) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    check_session_arguments(parser, args)
    analysis, report = session_report(args.input, args)
    comparison = session_report(args.compare, args)[1] if args.compare else None
    args.out.mkdir(parents=True, exist_ok=True)
    from app.core.athlete_pdf import report_inputs_from_video, write_athlete_pdf
    from app.core.outputs import OUTPUT_KINDS, output_stem

    inputs = report_inputs_from_video(report, analysis, runner=args.runner, comparison=comparison)
    path = write_athlete_pdf(
        inputs, OUTPUT_KINDS["report_pdf"].path(args.out, output_stem(analysis))
    )
    print(f"{Path(args.input).name}: report -> {path}", file=sys.stderr)
    return 0
