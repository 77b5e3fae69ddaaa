"""Every file an analysed video can be written to, in one registry.

The ``analyze`` command, the app's Export menu and the batch writer all iterate ``OUTPUTS``:
a new kind of file is added here once and appears in all three with the same suffix, label and
writer, so a file exported from the app is byte for byte the file the command writes
(docs/engine.md, "Outputs").

``write_outputs`` writes a set of kinds for one video all or nothing: every file goes to a
temporary name first and is renamed into place only when all of them succeeded; the analysis
sidecar is saved last, so a cancel, an error or a full disk leaves no partial file.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.analysis import SIDECAR_SUFFIX, Analysis
from app.core.progress import Progress
from rhpnet.atomic import atomic_path

if TYPE_CHECKING:
    from app.core.running_report import RunningReport


@dataclass(frozen=True)
class OutputInputs:
    """What the writers read: the analysis, and the runner's report once it is computed."""

    analysis: Analysis
    report: RunningReport | None = None


Writer = Callable[[OutputInputs, Path, Progress | None, threading.Event | None], Path]


@dataclass(frozen=True)
class OutputKind:
    """One kind of output file."""

    key: str
    suffix: str
    label: str  # as the Export menu says it
    file_filter: str  # for the save dialog
    option: str  # the ``analyze`` option that asks for it ("" = always written)
    write: Writer
    needs_report: bool = True  # False: written from the keypoints alone
    long_running: bool = False  # shows progress and can be cancelled
    opt_out: bool = False  # True: written unless ``option`` is given (``--no-video``)

    def chosen_by(self, given: set[str]) -> bool:
        """Whether ``analyze`` with the options ``given`` writes this kind."""
        if not self.option:
            return True
        return (self.option in given) != self.opt_out

    def path(self, out_dir: str | Path, stem: str) -> Path:
        return Path(out_dir) / f"{stem}{self.suffix}"


def output_stem(analysis: Analysis) -> str:
    """File-name stem of a video's outputs: the video's own stem, made safe for any filesystem."""
    stem = Path(analysis.video.path).stem or "video"
    return re.sub(r"[^\w.-]+", "_", stem)


# --- the writers: thin calls into the modules that own each format --------------------------
def _keypoints_csv(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.pose_files import write_keypoints_csv

    return write_keypoints_csv(inputs.analysis, path)


def _coco_json(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.pose_files import write_coco_json

    return write_coco_json(inputs.analysis, path)


def _overlay_video(inputs: OutputInputs, path: Path, progress, cancel) -> Path:
    from app.core.pose_files import write_overlay_video

    return write_overlay_video(inputs.analysis, path, progress=progress, cancel=cancel)


def _angles_csv(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.running_report import write_angles_csv

    return write_angles_csv(inputs.report, path)


def _metrics_json(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.running_report import write_metrics_json

    return write_metrics_json(inputs.report, path)


def _metrics_csv(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.metrics_table import write_metrics_csv

    return write_metrics_csv(inputs.report, path)


def _angle_plot(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.running_report import write_angle_plot

    return write_angle_plot(inputs.report, path)


def _cycle_csv(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.cycle_export import write_cycle_csv
    from app.core.gait_cycle import report_cycles

    return write_cycle_csv(report_cycles(inputs.report), path)


def _cycle_png(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.cycle_export import CycleSession, write_cycle_png
    from app.core.gait_cycle import cycle_ranges, report_cycles

    report = inputs.report
    name = Path(report.video_path)
    return write_cycle_png(
        [CycleSession(name.stem, report_cycles(report))],
        path,
        cycle_ranges(report.summary),
        title=f"{name.name}: gait cycle",
    )


def _trc(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.opensim import write_trc

    return write_trc(inputs.report, path)


def _mot(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.opensim import write_mot

    return write_mot(inputs.report, path)


def _report_pdf(inputs: OutputInputs, path: Path, _progress, _cancel) -> Path:
    from app.core.athlete_pdf import report_inputs_from_video, write_athlete_pdf

    return write_athlete_pdf(report_inputs_from_video(inputs.report, inputs.analysis), path)


OUTPUTS: tuple[OutputKind, ...] = (
    OutputKind(
        "keypoints_csv", ".keypoints.csv", "Keypoints CSV", "CSV (*.csv)", "", _keypoints_csv, False
    ),
    OutputKind(
        "coco_json", ".coco.json", "Keypoints COCO JSON", "JSON (*.json)", "", _coco_json, False
    ),
    OutputKind("angles_csv", ".angles.csv", "Angles CSV", "CSV (*.csv)", "", _angles_csv),
    OutputKind("metrics_json", ".metrics.json", "Metrics JSON", "JSON (*.json)", "", _metrics_json),
    OutputKind("metrics_csv", ".metrics.csv", "Metrics CSV", "CSV (*.csv)", "", _metrics_csv),
    OutputKind(
        "plot_png", ".angles.png", "Angle plot PNG", "PNG image (*.png)", "--plots", _angle_plot
    ),
    OutputKind("cycle_csv", ".cycle.csv", "Gait-cycle CSV", "CSV (*.csv)", "--cycles", _cycle_csv),
    OutputKind(
        "cycle_png",
        ".cycle.png",
        "Gait-cycle plot PNG",
        "PNG image (*.png)",
        "--cycles",
        _cycle_png,
    ),
    OutputKind(
        "report_pdf", ".report.pdf", "Athlete report (PDF)", "PDF (*.pdf)", "--report", _report_pdf
    ),
    OutputKind(
        "opensim_trc",
        ".trc",
        "OpenSim markers (.trc)",
        "OpenSim marker file (*.trc)",
        "--opensim",
        _trc,
    ),
    OutputKind(
        "opensim_mot",
        ".mot",
        "OpenSim angles (.mot)",
        "OpenSim motion file (*.mot)",
        "--opensim",
        _mot,
    ),
    OutputKind(
        "overlay_video",
        ".overlay.mp4",
        "Annotated video (MP4)",
        "MP4 video (*.mp4)",
        "--no-video",
        _overlay_video,
        needs_report=False,
        long_running=True,
        opt_out=True,
    ),
)
OUTPUT_KINDS: dict[str, OutputKind] = {kind.key: kind for kind in OUTPUTS}


def chosen_outputs(options: Iterable[str]) -> list[OutputKind]:
    """The kinds the ``analyze`` options ask for (``options``: the flags given, e.g. --plots;
    the overlay video is written unless ``--no-video`` is among them)."""
    given = set(options)
    return [kind for kind in OUTPUTS if kind.chosen_by(given)]


def write_outputs(
    inputs: OutputInputs,
    kinds: Iterable[OutputKind],
    out_dir: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    stem: str | None = None,
    save_sidecar: bool = True,
) -> list[Path]:
    """Write ``kinds`` for one video into ``out_dir``, all or nothing, then its sidecar.

    ``progress`` and ``cancel`` reach the long-running kinds (the overlay video); ``stem``
    defaults to the video's (``output_stem``). Returns the
    paths written: the sidecar (``<stem>.analysis.npz`` + ``.json``) first, then the outputs in
    registry order.
    """
    kinds = list(kinds)
    stem = stem or output_stem(inputs.analysis)
    missing = [kind.label for kind in kinds if kind.needs_report and inputs.report is None]
    if missing:
        raise ValueError(f"no report to write {', '.join(missing)} from")
    paths = [kind.path(out_dir, stem) for kind in kinds]
    with contextlib.ExitStack() as stack:
        for kind, path in zip(kinds, paths, strict=True):
            temporary = stack.enter_context(atomic_path(path))
            kind.write(inputs, temporary, progress, cancel)
    written = []
    if save_sidecar:
        sidecar = Path(out_dir) / f"{stem}{SIDECAR_SUFFIX}"
        inputs.analysis.save(sidecar)
        written = [sidecar, sidecar.with_suffix(".json")]
    return written + paths
