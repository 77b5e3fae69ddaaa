"""Render zoomed crops of the same image region over a run of frames into one labelled grid.

This is the tool behind the hand-counted foot events in ``tests/data/gait_events/`` (see
``docs/gait_events.md``): initial contact and toe-off are decided by looking at the feet
frame by frame, never at a skeleton overlay, because the swing foot's furthest forward reach
comes several frames before the sole reaches the ground. Frames are read with the app's own
``read_frame(i)`` so a frame number on a tile is exactly the index the analysis uses.

    python docs/gait_events/contact_sheet.py CLIP --frames 20-40 --box X0 Y0 X1 Y1 \
        [--line X0 Y0 X1 Y1] [--scale 2] [--cols 7] --out sheet.png

``--frames`` takes ranges and lists (``20-40``, ``5,27,48``); ``--line`` draws a reference line
(the belt or ground level) through two image points; ``--box`` is in upright frame pixels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from rhpnet.media.video import open_video


def parse_frames(text: str) -> list[int]:
    """``"3-6,10"`` -> ``[3, 4, 5, 6, 10]`` (inclusive ranges, comma-separated)."""
    frames: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = part.split("-")
            frames.extend(range(int(first), int(last) + 1))
        elif part:
            frames.append(int(part))
    return frames


def tile(
    image: np.ndarray,
    box: tuple[int, int, int, int],
    scale: float,
    label: str,
    line: tuple[int, int, int, int] | None,
    grid_px: int,
) -> np.ndarray:
    """The crop ``box`` of ``image``, scaled, with the label and the reference line drawn.

    ``line`` is two image points (x0, y0, x1, y1): the belt edge is seen at a slant.
    """
    x0, y0, x1, y1 = box
    crop = image[max(y0, 0) : y1, max(x0, 0) : x1].copy()
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if grid_px:
        # faint vertical grid: a foot moving with the belt is seen crossing the lines
        for x in range(0, crop.shape[1], int(grid_px * scale)):
            cv2.line(crop, (x, 0), (x, crop.shape[0]), (255, 255, 0), 1)
    if line is not None:
        lx0, ly0, lx1, ly1 = line
        start = (int(round((lx0 - x0) * scale)), int(round((ly0 - y0) * scale)))
        end = (int(round((lx1 - x0) * scale)), int(round((ly1 - y0) * scale)))
        cv2.line(crop, start, end, (0, 0, 255), 1)
    cv2.rectangle(crop, (0, 0), (12 * len(label) + 8, 26), (0, 0, 0), -1)
    cv2.putText(crop, label, (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    return crop


def contact_sheet(
    clip: Path,
    frames: list[int],
    box: tuple[int, int, int, int],
    *,
    scale: float = 2.0,
    cols: int = 7,
    line: tuple[int, int, int, int] | None = None,
    grid_px: int = 0,
    labels: dict[int, str] | None = None,
) -> np.ndarray:
    """One grid image: a tile per frame in ``frames`` (row-major), frame number on each."""
    labels = labels or {}
    tiles = []
    with open_video(clip) as video:
        for index in frames:
            image = video.read_frame(index).image
            name = f"{index} {labels[index]}" if index in labels else str(index)
            tiles.append(tile(image, box, scale, name, line, grid_px))
    return grid(tiles, cols)


def grid(tiles: list[np.ndarray], cols: int) -> np.ndarray:
    """The tiles in rows of ``cols`` on a dark background, each in a cell of the largest size."""
    height = max(t.shape[0] for t in tiles)
    width = max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (height + 4), cols * (width + 4), 3), 40, np.uint8)
    for i, crop in enumerate(tiles):
        r, c = divmod(i, cols)
        top, left = r * (height + 4), c * (width + 4)
        sheet[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frames", required=True, help="e.g. 20-40 or 5,27,48")
    parser.add_argument("--box", type=int, nargs=4, required=True, metavar=("X0", "Y0", "X1", "Y1"))
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--cols", type=int, default=7)
    parser.add_argument(
        "--line",
        type=int,
        nargs=4,
        default=None,
        metavar=("X0", "Y0", "X1", "Y1"),
        help="reference line (belt level) through two image points",
    )
    parser.add_argument("--grid", type=int, default=0, help="vertical grid spacing in pixels")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sheet = contact_sheet(
        args.clip,
        parse_frames(args.frames),
        tuple(args.box),
        scale=args.scale,
        cols=args.cols,
        line=tuple(args.line) if args.line else None,
        grid_px=args.grid,
    )
    cv2.imwrite(str(args.out), sheet)


if __name__ == "__main__":
    main()
