"""Draw the evidence sheet of a counted clip: a few events, each with the frames around it.

Each row is one event from ``tests/data/gait_events/<clip>.json``: the frames before, at and
after the counted frame, cropped to the foot (the boxes below were chosen where that foot is
at that event) and zoomed, with the belt or ground line drawn. The chosen frame's tile is
labelled with the event. Saved as a 256-colour PNG to stay small.

    python docs/gait_events/evidence.py treadmill_side_IMG_5396 --videos DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from contact_sheet import tile
from PIL import Image

from rhpnet.media.video import open_video

HERE = Path(__file__).parent
TRUTH_DIR = HERE.parents[1] / "tests" / "data" / "gait_events"

# per clip: (foot, kind, frame) of the rows, the crop box and belt line per kind, zoom, offsets;
# a panning shot gives each row its own box ("row_boxes", by frame) and no fixed ground line
SHEETS: dict[str, dict] = {
    "treadmill_side_IMG_5396": {
        "rows": [
            ("left", "IC", 10),
            ("right", "IC", 32),
            ("right", "IC", 331),
            ("left", "TO", 28),
            ("right", "TO", 49),
            ("left", "TO", 243),
        ],
        "box": {"IC": (760, 1190, 1040, 1340), "TO": (330, 1190, 610, 1340)},
        "line": (0, 1355, 1080, 1296),
        "scale": 0.85,
        "offsets": (-2, -1, 0, 1),
    },
    "treadmill_side_slow": {
        "rows": [
            ("left", "IC", 224),
            ("right", "IC", 323),
            ("left", "IC", 632),
            ("left", "TO", 320),
            ("right", "TO", 420),
            ("left", "TO", 729),
        ],
        "box": {"IC": (245, 195, 325, 240), "TO": (150, 185, 230, 240)},
        "line": (150, 229, 410, 223),
        "scale": 3.0,
        "offsets": (-8, -4, 0, 4),
    },
    "outdoor_side_running": {
        "rows": [
            ("left", "IC", 5),
            ("left", "TO", 36),
            ("right", "IC", 61),
            ("right", "TO", 91),
            ("left", "IC", 113),
        ],
        "box": {},
        "row_boxes": {
            5: (330, 640, 570, 800),
            36: (280, 620, 520, 780),
            61: (570, 640, 810, 800),
            91: (380, 630, 620, 790),
            113: (700, 660, 940, 820),
        },
        "line": None,
        "scale": 1.0,
        "offsets": (-2, -1, 0, 1),
    },
}


def evidence_sheet(clip: Path, spec: dict) -> np.ndarray:
    rows = []
    with open_video(clip) as video:
        for foot, kind, frame in spec["rows"]:
            tiles = []
            for offset in spec["offsets"]:
                index = frame + offset
                label = f"{index} {foot[0].upper()} {kind}" if offset == 0 else str(index)
                image = video.read_frame(index).image
                box = spec.get("row_boxes", {}).get(frame) or spec["box"][kind]
                tiles.append(tile(image, box, spec["scale"], label, spec["line"], 0))
            rows.append(np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in tiles]))
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stem", choices=sorted(SHEETS))
    parser.add_argument("--videos", type=Path, required=True, help="folder holding the clip")
    args = parser.parse_args()
    truth = json.loads((TRUTH_DIR / f"{args.stem}.json").read_text())
    spec = SHEETS[args.stem]
    counted = {(e["foot"], e["kind"], e["frame"]) for e in truth["events"]}
    missing = [row for row in spec["rows"] if tuple(row) not in counted]
    if missing:
        raise SystemExit(f"rows not in the counted events: {missing}")
    sheet = evidence_sheet(args.videos / truth["clip"], spec)
    rgb = Image.fromarray(cv2.cvtColor(sheet, cv2.COLOR_BGR2RGB))
    rgb.quantize(256).save(HERE / f"{args.stem}.png", optimize=True)


if __name__ == "__main__":
    main()
