"""Draw docs/kinematics_angles.png: the angle conventions on a runner facing right.

Run from the repository root: ``python docs/kinematics_figure.py``. The pose is built with the
same definitions the code uses (segment angles from the vertical, forward positive), and the
angles printed in the figure are computed by ``app.core.kinematics.joint_angles`` itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Arc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.core.kinematics import joint_angles  # noqa: E402

TRUNK_LEAN, THIGH, KNEE, SWING_THIGH, SWING_KNEE = 10.0, 30.0, 45.0, -15.0, 80.0
SHOULDER, ELBOW = 25.0, 90.0


def down(angle: float, length: float) -> np.ndarray:
    a = np.radians(angle)
    return np.array([length * np.sin(a), -length * np.cos(a)])


def build_pose() -> dict[str, np.ndarray]:
    hip = np.array([0.0, 0.0])
    shoulder = hip + 0.55 * np.array(
        [np.sin(np.radians(TRUNK_LEAN)), np.cos(np.radians(TRUNK_LEAN))]
    )
    knee = hip + down(THIGH, 0.45)
    ankle = knee + down(THIGH - KNEE, 0.45)
    back_knee = hip + down(SWING_THIGH, 0.45)
    back_ankle = back_knee + down(SWING_THIGH - SWING_KNEE, 0.45)
    elbow = shoulder + down(SHOULDER - TRUNK_LEAN, 0.3)
    wrist = elbow + down(SHOULDER - TRUNK_LEAN + ELBOW, 0.26)
    head = shoulder + 0.16 * np.array(
        [np.sin(np.radians(TRUNK_LEAN)), np.cos(np.radians(TRUNK_LEAN))]
    )
    return dict(
        hip=hip,
        shoulder=shoulder,
        knee=knee,
        ankle=ankle,
        back_knee=back_knee,
        back_ankle=back_ankle,
        elbow=elbow,
        wrist=wrist,
        head=head,
    )


def computed_angles(p: dict[str, np.ndarray]) -> dict[str, float]:
    """The same pose through the product's own angle code (image pixels, y down)."""
    points = np.full((1, 17, 3), 1.0)
    layout = {
        0: p["head"] + [0.08, 0.0],
        3: p["head"],
        4: p["head"],
        5: p["shoulder"],
        6: p["shoulder"],
        7: p["elbow"],
        8: p["elbow"],
        9: p["wrist"],
        10: p["wrist"],
        11: p["hip"],
        12: p["hip"],
        13: p["knee"],
        14: p["back_knee"],
        15: p["ankle"],
        16: p["back_ankle"],
    }
    for index, xy in layout.items():
        points[0, index, :2] = [500 + 400 * xy[0], 500 - 400 * xy[1]]
    return {k: float(v[0]) for k, v in joint_angles(points, np.ones(1)).items()}


def arc(ax, center, radius, start, end, colour, label, text_at):
    """Arc between two directions given as angles from the downward vertical (forward +)."""
    theta1, theta2 = sorted((start - 90.0, end - 90.0))  # matplotlib: from +x, counter-clockwise
    ax.add_patch(
        Arc(center, 2 * radius, 2 * radius, theta1=theta1, theta2=theta2, color=colour, lw=1.8)
    )
    ax.text(*text_at, label, color=colour, ha="left", va="center", fontsize=10)


def main() -> None:
    p = build_pose()
    angles = computed_angles(p)
    figure = Figure(figsize=(9, 6.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.set_aspect("equal")
    ax.axis("off")
    bones = [
        ("hip", "shoulder", "k"),
        ("shoulder", "head", "k"),
        ("hip", "knee", "#d62728"),
        ("knee", "ankle", "#d62728"),
        ("hip", "back_knee", "#1f77b4"),
        ("back_knee", "back_ankle", "#1f77b4"),
        ("shoulder", "elbow", "#d62728"),
        ("elbow", "wrist", "#d62728"),
    ]
    for a, b, colour in bones:
        ax.plot(*np.stack([p[a], p[b]]).T, color=colour, lw=4, solid_capstyle="round")
    for name in ("hip", "knee", "shoulder", "elbow", "back_knee"):
        ax.plot(*p[name], "o", color="k", ms=5)
    for name in ("hip", "knee", "shoulder"):  # vertical references
        ax.plot([p[name][0]] * 2, [p[name][1] - 0.32, p[name][1] + 0.22], ":", color="grey", lw=1)
    trunk_down = -TRUNK_LEAN  # the trunk line continued below the hip, as a "from down" angle
    ax.plot(*np.stack([p["hip"], p["hip"] + down(trunk_down, 0.35)]).T, "--", color="grey", lw=1)
    ax.plot(*np.stack([p["knee"], p["knee"] + down(THIGH, 0.3)]).T, "--", color="grey", lw=1)
    ax.plot(
        *np.stack([p["shoulder"], p["shoulder"] + down(trunk_down, 0.3)]).T,
        "--",
        color="grey",
        lw=1,
    )
    ax.plot(
        *np.stack([p["elbow"], p["elbow"] + down(SHOULDER - TRUNK_LEAN, 0.22)]).T,
        "--",
        color="grey",
        lw=1,
    )

    hip, knee, shoulder, elbow = p["hip"], p["knee"], p["shoulder"], p["elbow"]
    arc(
        ax,
        hip,
        0.13,
        0.0,
        THIGH,
        "#9467bd",
        f"thigh angle {angles['thigh_angle_left']:+.0f}",
        (0.2, -0.12),
    )
    arc(
        ax,
        hip,
        0.24,
        trunk_down,
        THIGH,
        "#2ca02c",
        f"hip flexion {angles['hip_flexion_left']:+.0f}",
        (0.2, -0.25),
    )
    arc(
        ax,
        hip,
        0.19,
        trunk_down,
        SWING_THIGH,
        "#1f77b4",
        f"hip flexion {angles['hip_flexion_right']:+.0f}\n(extension < 0)",
        (-0.62, -0.2),
    )
    arc(
        ax,
        knee,
        0.12,
        0.0,
        THIGH - KNEE,
        "#8c564b",
        f"shank angle {angles['shank_angle_left']:+.0f}",
        (-0.3, -0.62),
    )
    arc(
        ax,
        knee,
        0.2,
        THIGH - KNEE,
        THIGH,
        "#d62728",
        f"knee flexion {angles['knee_flexion_left']:.0f}",
        (0.42, -0.62),
    )
    ax.add_patch(Arc(hip, 0.5, 0.5, theta1=90 - TRUNK_LEAN, theta2=90, color="k", lw=1.8))
    ax.text(-0.42, 0.27, f"trunk lean {angles['trunk_lean']:+.0f}", fontsize=10)
    arc(
        ax,
        shoulder,
        0.12,
        trunk_down,
        SHOULDER - TRUNK_LEAN,
        "#e377c2",
        f"shoulder flexion {angles['shoulder_flexion_left']:+.0f}",
        (0.2, 0.62),
    )
    arc(
        ax,
        elbow,
        0.1,
        SHOULDER - TRUNK_LEAN,
        SHOULDER - TRUNK_LEAN + ELBOW,
        "#17becf",
        f"elbow flexion {angles['elbow_flexion_left']:.0f}",
        (0.5, 0.2),
    )
    ax.annotate("", xy=(0.95, 0.85), xytext=(0.6, 0.85), arrowprops=dict(arrowstyle="->", lw=2))
    ax.text(0.6, 0.9, "running direction (+)", fontsize=10)
    ax.set_title(
        "Angle conventions (degrees). Red: leg/arm in front, blue: leg behind.\n"
        "Segments from the vertical, forward +; knee/elbow 0 = straight; hip/shoulder vs the trunk line.",
        fontsize=10,
    )
    ax.set_xlim(-0.7, 1.1)
    ax.set_ylim(-0.95, 0.95)
    target = Path(__file__).with_name("kinematics_angles.png")
    figure.savefig(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
