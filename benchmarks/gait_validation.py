"""Score the analysis' foot events against the hand-counted ones in ``tests/data/gait_events/``.

For each clip with a truth file, runs ``python -m app analyze`` on a copy in a temporary folder
(the app writes sidecars next to a video, and the real data is read-only), reads the initial
contacts (IC) and toe-offs (TO) it found, and matches each counted event to the nearest found
event of the same foot and kind within half a stride. It prints events found / missed / extra,
the bias (mean signed error, found minus counted; negative = early) and mean |error| of IC and
TO in video frames and in real-time ms (frame interval / slow-motion factor), and contact and
flight time against the count, and how many events each method timed (``feet`` or the
``ankle_pelvis`` fallback). The counting rule and the method are in ``docs/gait_events.md``.

    python benchmarks/gait_validation.py                  # every clip that has a truth file
    python benchmarks/gait_validation.py --clip treadmill_side_slow.mp4
    python benchmarks/gait_validation.py --metrics OUT/x.metrics.json --clip x.mp4  # score a run

How the events are read from the analysis lives in ``read_found_events`` alone, so a change of
the gait output needs one function changed here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.common import find_shared_data  # noqa: E402

TRUTH_DIR = REPO_ROOT / "tests" / "data" / "gait_events"


@dataclass(frozen=True)
class FootEvent:
    foot: str  # the runner's "left" or "right"
    kind: str  # "IC" or "TO"
    frame: float  # video frame index (0-based, as read_frame); may be fractional
    method: str = ""  # what timed a found event: "feet" or "ankle_pelvis"


def read_found_events(metrics_path: Path) -> list[FootEvent]:
    """The IC and TO events of an analysis, from its ``<stem>.metrics.json``.

    Uses the nearest-frame ``frame`` of each entry of ``events`` (the frame a user steps to).
    """
    metrics = json.loads(metrics_path.read_text())
    return [
        FootEvent(e["side"], e["kind"], float(e["frame"]), e.get("method", ""))
        for e in metrics.get("events", [])
        if e.get("kind") in ("IC", "TO")
    ]


def read_truth(path: Path) -> tuple[dict, list[FootEvent]]:
    truth = json.loads(path.read_text())
    events = [FootEvent(e["foot"], e["kind"], float(e["frame"])) for e in truth["events"]]
    return truth, events


def run_analysis(clip: Path, slowmo: float, work: Path) -> Path:
    """Analyse a copy of ``clip`` in ``work`` with the app's CLI; returns the metrics JSON."""
    copy = work / clip.name
    shutil.copyfile(clip, copy)
    out = work / "out"
    command = [sys.executable, "-m", "app", "analyze", str(copy), "--out", str(out), "--no-video"]
    if slowmo != 1:
        command += ["--slowmo", f"{slowmo:g}"]
    subprocess.run(command, check=True, cwd=REPO_ROOT, capture_output=True, text=True)
    return out / f"{clip.stem}.metrics.json"


def stride_frames(truth: list[FootEvent]) -> float:
    """Median stride of the count (frames): between one foot's successive events of a kind, or
    twice the step between the two feet's events where a short count has no full stride."""
    for same_foot in (True, False):
        gaps: list[float] = []
        for kind in ("IC", "TO"):
            for foot in ("left", "right") if same_foot else (None,):
                frames = sorted(e.frame for e in truth if e.kind == kind and foot in (None, e.foot))
                gaps += list(np.diff(frames) * (1 if same_foot else 2))
        if gaps:
            return float(np.median(gaps))
    raise ValueError("a count needs two events of one kind to give a stride")


def match(
    truth: list[FootEvent], found: list[FootEvent], tolerance: float, *, same_foot: bool = True
) -> dict[int, int]:
    """Counted event index -> found event index: nearest first, one to one, same kind and
    (unless ``same_foot`` is False, to see side mix-ups) the same foot."""
    pairs = sorted(
        (abs(f.frame - t.frame), ti, fi)
        for ti, t in enumerate(truth)
        for fi, f in enumerate(found)
        if f.kind == t.kind
        and (f.foot == t.foot or not same_foot)
        and abs(f.frame - t.frame) <= tolerance
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, ti, fi in pairs:
        if ti not in matched and fi not in used:
            matched[ti] = fi
            used.add(fi)
    return matched


def phase_durations(events: list[FootEvent]) -> tuple[list[tuple], list[tuple]]:
    """Contact (IC -> same foot's next TO) and flight (TO -> other foot's next IC) intervals."""
    ordered = sorted(events, key=lambda e: e.frame)
    contacts, flights = [], []
    for i, event in enumerate(ordered):
        later = ordered[i + 1 :]
        if event.kind == "IC":
            to = next((e for e in later if e.foot == event.foot), None)
            if to is not None and to.kind == "TO":
                contacts.append((event, to))
        else:
            ic = next((e for e in later if e.kind == "IC"), None)
            if ic is not None and ic.foot != event.foot:
                flights.append((event, ic))
    return contacts, flights


def score(truth_doc: dict, truth: list[FootEvent], found: list[FootEvent]) -> list[str]:
    """The report lines of one clip."""
    fps, slowmo = float(truth_doc["fps"]), float(truth_doc.get("slowmo", 1.0))
    ms_per_frame = 1000.0 / fps / slowmo
    stride = stride_frames(truth)
    matched = match(truth, found, stride / 2)
    first, last = truth_doc.get("counted_frames", (0, truth_doc["frame_count"] - 1))
    in_span = [i for i, f in enumerate(found) if first <= f.frame <= last]
    extra = len(set(in_span) - set(matched.values()))
    lines = [
        f"{truth_doc['clip']}: {fps:g} fps, slowmo {slowmo:g} "
        f"({ms_per_frame:.2f} real ms per frame), stride {stride:.1f} frames",
        f"  events: {len(truth)} counted, {len(matched)} found, {len(truth) - len(matched)} "
        f"missed, {extra} extra in frames {first}-{last} "
        f"(same foot and kind within {stride / 2:.0f} frames)",
    ]
    methods = [f.method for i, f in enumerate(found) if i in set(in_span) and f.method]
    if methods:
        counts = ", ".join(f"{m} {methods.count(m)}" for m in sorted(set(methods)))
        lines.append(f"  timed by: {counts}")
    any_foot = match(truth, found, stride / 2, same_foot=False)
    if len(any_foot) != len(matched):
        lines.append(
            f"  with the feet ignored {len(any_foot)} found: "
            f"{len(any_foot) - len(matched)} events are on the wrong foot"
        )
    for kind in ("IC", "TO"):
        errors = np.array(
            [
                found[fi].frame - truth[ti].frame
                for ti, fi in matched.items()
                if truth[ti].kind == kind
            ]
        )
        sure = np.array(
            [
                found[fi].frame - truth[ti].frame
                for ti, fi in matched.items()
                if truth[ti].kind == kind and truth_doc["events"][ti]["confidence"] == "sure"
            ]
        )
        if errors.size == 0:
            lines.append(f"  {kind}: none matched")
            continue
        lines.append(
            f"  {kind}: n={errors.size}  bias {errors.mean():+.2f} frames "
            f"({errors.mean() * ms_per_frame:+.1f} ms)  mean |error| {np.abs(errors).mean():.2f} "
            f"frames ({np.abs(errors).mean() * ms_per_frame:.1f} ms)  max |error| "
            f"{np.abs(errors).max():.0f}"
            + (f"  [sure only: n={sure.size}, bias {sure.mean():+.2f}]" if sure.size else "")
        )
    lines += durations(truth, found, matched, ms_per_frame)
    return lines


def durations(
    truth: list[FootEvent], found: list[FootEvent], matched: dict[int, int], ms_per_frame: float
) -> list[str]:
    """Contact and flight time of the count against those of the matched found events."""
    index = {id(e): i for i, e in enumerate(truth)}
    contacts, flights = phase_durations(truth)
    lines = []
    for name, intervals in (("contact", contacts), ("flight", flights)):
        counted, measured = [], []
        for start, end in intervals:
            a, b = matched.get(index[id(start)]), matched.get(index[id(end)])
            counted.append(end.frame - start.frame)
            if a is not None and b is not None:
                measured.append((found[b].frame - found[a].frame, end.frame - start.frame))
        if not counted:
            continue
        line = (
            f"  {name} time: counted {np.mean(counted):.1f} frames "
            f"({np.mean(counted) * ms_per_frame:.0f} ms, n={len(counted)})"
        )
        if measured:
            got = np.array(measured)
            diff = got[:, 0] - got[:, 1]
            line += (
                f"; analysis {got[:, 0].mean():.1f} frames ({got[:, 0].mean() * ms_per_frame:.0f} "
                f"ms) on the {len(got)} with both ends found: {diff.mean():+.1f} frames "
                f"({diff.mean() * ms_per_frame:+.0f} ms, {100 * diff.mean() / got[:, 1].mean():+.0f} %)"
            )
        lines.append(line)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", action="append", help="clip file name (default: all counted)")
    parser.add_argument("--metrics", type=Path, help="score this metrics.json instead of running")
    parser.add_argument("--data", help="the shared data folder (holds videos/)")
    args = parser.parse_args()
    truth_files = sorted(TRUTH_DIR.glob("*.json"))
    if args.clip:
        truth_files = [p for p in truth_files if json.loads(p.read_text())["clip"] in args.clip]
    if args.metrics and len(truth_files) != 1:
        parser.error("--metrics needs exactly one --clip")
    data = None if args.metrics else find_shared_data("videos", args.data)
    for path in truth_files:
        truth_doc, truth = read_truth(path)
        if args.metrics:
            metrics = args.metrics
            found = read_found_events(metrics)
        else:
            if data is None:
                print("the shared data folder with videos/ was not found (--data)")
                return 1
            with tempfile.TemporaryDirectory() as work:
                metrics = run_analysis(
                    data / "videos" / truth_doc["clip"],
                    float(truth_doc.get("slowmo", 1)),
                    Path(work),
                )
                found = read_found_events(metrics)
        print("\n".join(score(truth_doc, truth, found)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
