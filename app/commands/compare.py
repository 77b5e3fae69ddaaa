"""``rhpnet-coach compare A B``: two sessions' metrics and gait-cycle curves, side by side.

Each of A and B is a video or its ``<stem>.analysis.npz`` sidecar. Writes into ``--out``
(docs/compare.md) ``<A>_vs_<B>.compare.csv`` (per metric: both means and SDs, the difference
B - A, the step-to-step spread and whether the difference exceeds it) and
``<A>_vs_<B>.compare.cycle.png`` (both sessions' cycle curves over each other), and prints the
table.
"""

from __future__ import annotations

import argparse
import sys

from app.commands.report import add_session_arguments, check_session_arguments, session_report


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compare two running sessions (videos or analysis sidecars): metrics, "
        "differences against the step-to-step spread, and gait-cycle curves.",
    )
    parser.add_argument("first", metavar="A", help="the first session (the reference)")
    parser.add_argument("second", metavar="B", help="the second session")
    add_session_arguments(parser)
    return parser


def main(argv: list[str], prog: str) -> int:
    from app.core.compare import compare_reports, write_comparison
    from app.core.outputs import output_stem

    parser = build_parser(prog)
    args = parser.parse_args(argv)
    check_session_arguments(parser, args)
    analysis_a, report_a = session_report(args.first, args)
    analysis_b, report_b = session_report(args.second, args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{output_stem(analysis_a)}_vs_{output_stem(analysis_b)}"
    written = write_comparison(report_a, report_b, args.out, stem)
    for row in compare_reports(report_a, report_b):
        difference = "-" if row.difference is None else f"{row.difference:+.{row.decimals}f}"
        print(f"{row.label:<45} {difference:>10} {row.unit:<12} {row.verdict}")
    print("-> " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0
