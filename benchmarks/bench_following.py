"""What following several runners costs, measured in one run on the race clip.

Three analyses of ``race_3runners_pan.mp4`` (``analyze_video``, the path of ``analyze``), run in
turn ``--repeat`` times each:

(a) one person followed (the default): the detector's one person per frame, the baseline;
(b) ``max_people=3`` without the search for runners beside the ones followed
    (``app.core.neighbour_search``): detection, tracking with looks, following into missed frames;
(c) ``max_people=3`` as analysed: (b) plus the search and the following of those it finds.

Prints the median seconds of each, its ratio to (a), and what each gives: the tracks seen over at
least 1 s with their first and last frames, the frames the following added and the people found
beside (docs/engine.md, "Following a runner into missed frames", "Finding the runners beside").

    python benchmarks/bench_following.py
    python benchmarks/bench_following.py --repeat 3 --workers 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.common import find_shared_data, machine_summary, timed  # noqa: E402


def analyse(video: Path, max_people: int, workers: int, search: bool):
    """One analysis; the search for runners beside is switched off where ``search`` is False."""
    from app.core import estimation
    from app.core.pipeline import AnalysisOptions, analyze_video

    options = AnalysisOptions(max_people=max_people, workers=workers)
    if search:
        return analyze_video(video, options)
    with mock.patch.object(estimation, "find_neighbours", return_value={}):
        return analyze_video(video, options)


def describe(analysis) -> str:
    """The tracks seen over at least 1 s, with what following added."""
    from app.core.track_extension import followable

    followed = analysis.model.get("followed_frames", {})
    parts = []
    for track_id, track in sorted(analysis.tracks.items()):
        if not followable(track, analysis.times_s):
            continue
        seen = track.present.nonzero()[0]
        parts.append(
            f"#{track_id} {seen[0]}-{seen[-1]} ({len(seen)} frames, "
            f"{followed.get(str(track_id), 0)} followed)"
        )
    beside = analysis.model.get("found_beside", [])
    return (
        f"{len(analysis.tracks)} tracks; "
        + "; ".join(parts)
        + (f"; found beside: {beside}" if beside else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the shared data folder (holds videos/)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data = find_shared_data("videos", args.data)
    if data is None:
        print("the shared data folder with videos/ was not found (--data)")
        return 1
    video = data / "videos" / "race_3runners_pan.mp4"
    print(machine_summary())
    print(f"{video.name}, {args.workers} workers, {args.repeat} runs of each, in turn")
    candidates = {
        "(a) one person (baseline)": (1, True),
        "(b) 3 people, no search beside": (3, False),
        "(c) 3 people, as analysed": (3, True),
    }
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    results = {}
    for _ in range(args.repeat):
        for name, (people, search) in candidates.items():
            kept: list = []
            seconds[name].append(
                timed(
                    lambda p=people, s=search, k=kept: k.append(analyse(video, p, args.workers, s))
                )
            )
            results[name] = kept[0]
    baseline = statistics.median(seconds["(a) one person (baseline)"])
    for name in candidates:
        median = statistics.median(seconds[name])
        print(f"{name}: {median:.1f} s, x{median / baseline:.2f}")
        print(f"    {describe(results[name])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
