"""Reader for the shared HRNet-W32 checkpoint key list (names and shapes per checkpoint layout).

The file holds Section A (official bare state dict), B (mmpose 1.x, under ``state_dict``) and
C (mmpose 0.x head lines, including the commented 51-channel CombinedTarget head).
"""

from __future__ import annotations

from pathlib import Path

Shape = tuple[int, ...]


def key_list_path(shared_data: Path) -> Path:
    return shared_data.parent / "hrnet_w32_checkpoint_keys.txt"


def _parse_entry(line: str) -> tuple[str, Shape]:
    name, shape = line.split(" ", 1)
    return name, tuple(int(v) for v in shape.strip().strip("()").split(",") if v)


def read_sections(path: Path) -> dict[str, list[tuple[str, Shape]]]:
    """Section id -> ordered (name, shape) entries; 'C51' holds the commented CombinedTarget head."""
    sections: dict[str, list[tuple[str, Shape]]] = {"C51": []}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("@@ SECTION"):
            current = line.split()[2]
            sections[current] = []
        elif current == "C" and line.startswith("# keypoint_head."):
            sections["C51"].append(_parse_entry(line[2:]))
        elif line and not line.startswith("#") and current is not None:
            sections[current].append(_parse_entry(line))
    return sections
