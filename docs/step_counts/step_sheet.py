"""Draw the evidence of a hand-counted cadence: one zoomed tile of the feet per counted step.

Each tile is a frame of ``tests/data/step_counts/<clip>.json``'s ``markers`` (the swinging foot
passing the standing leg), cropped around the runner's feet: a ``crop_size`` box whose
bottom centre (the feet) is interpolated between the file's ``crop_keyframes`` (frame, x, y),
so a runner the camera follows stays in the tile. A tile whose feet are not at that moment of the stride is a miscount.
Saved as a 256-colour PNG to stay small.

    python docs/step_counts/step_sheet.py tracking_shot_road --videos DIR
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
COUNTS_DIR = HERE.parents[1] / "tests" / "data" / "step_counts"
sys.path.insert(0, str(HERE.parent / "gait_events"))

from contact_sheet import grid, tile  # noqa: E402

from rhpnet.media.video import open_video  # noqa: E402

TILE_HEIGHT = 150  # pixels: every tile is zoomed to this height
COLUMNS = 8


def crop_at(count: dict, frame: float) -> tuple[int, int, int, int]:
    """The crop box at ``frame``: its feet point interpolated between the keyframes (held
    beyond them), 30 pixels of ground below the feet."""
    keys = np.asarray(count["crop_keyframes"], np.float64)
    x, y = (float(np.interp(frame, keys[:, 0], keys[:, i])) for i in (1, 2))
    width, height = count["crop_size"]
    x0, y0 = int(round(x - width / 2)), int(round(y + 30 - height))
    return x0, y0, x0 + width, y0 + height


def step_sheet(count: dict, videos: Path) -> np.ndarray:
    """The grid of tiles, one per marker (a marker between two frames shows the earlier)."""
    tiles = []
    with open_video(videos / count["clip"]) as video:
        for marker in count["markers"]:
            frame = int(math.floor(marker))
            x0, y0, x1, y1 = crop_at(count, marker)
            image = video.read_frame(frame).image
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
            crop = tile(image, (x0, y0, x1, y1), TILE_HEIGHT / (y1 - y0), f"{marker:g}", None, 0)
            tiles.append(crop)
    return grid(tiles, COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", help="stem of a file in tests/data/step_counts/")
    parser.add_argument("--videos", type=Path, required=True, help="folder holding the clip")
    parser.add_argument("--out", type=Path, default=None, help="PNG (default: docs/step_counts/)")
    args = parser.parse_args()
    count = json.loads((COUNTS_DIR / f"{args.clip}.json").read_text())
    sheet = step_sheet(count, args.videos)
    out = args.out or HERE / f"{args.clip}.png"
    rgb = Image.fromarray(sheet[:, :, ::-1])
    rgb.quantize(256).save(out, optimize=True)
    print(f"{out}: {len(count['markers'])} steps")


if __name__ == "__main__":
    main()
