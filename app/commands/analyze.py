"""``rhpnet-coach analyze``: analyse videos, image folders or a webcam headlessly and export.

Each input is analysed and exported on its own: a bad file prints one line
(``rhpnet-coach: error: <file>: <reason>``) and the batch goes on; the exit code is non-zero only
when an input failed. Outputs per input (see docs/engine.md): ``<stem>.analysis.npz/.json``,
``<stem>.keypoints.csv``, ``<stem>.coco.json``, unless ``--no-video`` ``<stem>.overlay.mp4``,
and the runner's kinematics (docs/kinematics.md): ``<stem>.angles.csv``, ``<stem>.metrics.json``
and, with ``--plots``, ``<stem>.angles.png``; with ``--cycles`` the gait-cycle curves
``<stem>.cycle.csv/.png``, with ``--report`` the athlete's ``<stem>.report.pdf``
(docs/report.md), with ``--opensim`` ``<stem>.trc`` and ``<stem>.mot`` (docs/opensim.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.report import check_kinematics_arguments
from app.core.options import DEFAULT_CUTOFF_HZ, DEVICES, LIMITS, MODELS
from rhpnet.errors import UserFacingError

if TYPE_CHECKING:
    from app.core.analysis import Analysis
    from app.core.options import AnalysisOptions
    from app.core.parallel import ChunkPool
    from app.core.pipeline import EstimatorFactory

EXIT_SOME_FAILED = 1


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Find the runner in each video, estimate 2D pose per frame, track people, "
        "and write keypoints CSV, COCO JSON, the analysis sidecar and an overlay video.",
    )
    parser.add_argument(
        "inputs", nargs="*", metavar="VIDEO", help="video files or folders of images (any number)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="default",
        help="pose model: the bundled BlazePose (default) or a trained network (needs --checkpoint)",
    )
    parser.add_argument("--checkpoint", metavar="PATH", help="weights for --model rhpnet|hrnet")
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where networks run (BlazePose always runs on the CPU)",
    )
    parser.add_argument(
        "--max-people", type=int, default=1, metavar="N", help="people to follow per frame (1)"
    )
    parser.add_argument("--no-video", action="store_true", help="skip the overlay video")
    parser.add_argument(
        "--slowmo",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="slow-motion factor of the footage, e.g. 8 for 240 fps played at 30 (1)",
    )
    parser.add_argument(
        "--runner-height-cm",
        type=float,
        metavar="CM",
        help="the runner's height, to give vertical oscillation in cm (docs/kinematics.md)",
    )
    parser.add_argument(
        "--cutoff-hz",
        type=float,
        default=DEFAULT_CUTOFF_HZ,
        metavar="HZ",
        help=f"low-pass cutoff of the kinematics in real-time Hz ({DEFAULT_CUTOFF_HZ:g})",
    )
    parser.add_argument(
        "--plots", action="store_true", help="also write <stem>.angles.png with the gait events"
    )
    parser.add_argument(
        "--cycles",
        action="store_true",
        help="also write <stem>.cycle.csv and <stem>.cycle.png, the gait-cycle curves",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="also write <stem>.report.pdf, the athlete's report (docs/report.md)",
    )
    parser.add_argument(
        "--opensim",
        action="store_true",
        help="also write <stem>.trc and <stem>.mot for OpenSim (needs --runner-height-cm)",
    )
    parser.add_argument(
        "--track",
        type=int,
        metavar="ID",
        help="analyse this track id instead of the automatic pick",
    )
    parser.add_argument(
        "--pick",
        type=pick_point,
        metavar="X,Y@FRAME",
        help="analyse the person whose box holds image point X,Y in frame FRAME (0-based), "
        "e.g. 640,360@120: the runner you would click in the app",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes that analyse chunks of each video side by side "
        "(default: one per usable CPU core; 1 analyses in this process)",
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=30.0,
        help="frame rate given to folders of images (30)",
    )
    parser.add_argument(
        "--webcam", type=int, metavar="INDEX", help="record from this camera, then analyse it"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to record with --webcam (10)",
    )
    return parser


def pick_point(text: str) -> tuple[float, float, int]:
    """'640,360@120' -> (640.0, 360.0, 120), for ``--pick``."""
    try:
        point, frame = text.split("@")
        x, y = point.split(",")
        return float(x), float(y), int(frame)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected X,Y@FRAME such as 640,360@120, got {text!r}"
        ) from None


def main(argv: list[str], prog: str) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if not args.inputs and args.webcam is None:
        parser.error("give at least one VIDEO (file or image folder) or --webcam INDEX")
    if not LIMITS.webcam_duration_s.accepts(args.duration):
        parser.error(f"--duration must be {LIMITS.webcam_duration_s.requirement}")
    check_kinematics_arguments(parser, args)
    if args.opensim and args.runner_height_cm is None:
        parser.error("--opensim needs --runner-height-cm to scale the trajectories to metres")

    from app.core.options import usable_cores
    from app.core.parallel import ChunkPool
    from app.core.pipeline import AnalysisOptions, EstimatorFactory

    options = AnalysisOptions(
        model=args.model,
        checkpoint=args.checkpoint,
        device=args.device,
        max_people=args.max_people,
        slowmo=args.slowmo,
        track_id=args.track,
        pick=args.pick,
        image_fps=args.fps,
        workers=usable_cores() if args.workers is None else args.workers,
    )
    options.validate()  # once for the whole batch
    factory = EstimatorFactory(options)  # a bad checkpoint stops here, before any video
    args.out.mkdir(parents=True, exist_ok=True)

    inputs: list[str] = list(args.inputs)
    attempted = len(inputs)
    failed = 0
    if args.webcam is not None:
        attempted += 1
        try:
            inputs.insert(0, str(record_webcam(args.webcam, args.duration, args.out)))
        except UserFacingError as error:
            _report_error(f"webcam {args.webcam}", error)
            failed += 1
    with ChunkPool(options, options.workers) as pool:  # workers start at the first long video
        for video in inputs:
            try:
                _analyse_one(video, factory, pool, args)
            except (UserFacingError, OSError) as error:
                _report_error(video, error)
                failed += 1
            except Exception:  # a bug: keep its traceback, but finish the rest of the batch
                traceback.print_exc()
                print(f"rhpnet-coach: error: {video}: internal error (see above)", file=sys.stderr)
                failed += 1
    if attempted > 1 or failed:
        print(
            f"{attempted - failed} of {attempted} analysed; outputs in {args.out}",
            file=sys.stderr,
        )
    return EXIT_SOME_FAILED if failed else 0


def _report_error(video: str, error: Exception) -> None:
    """One line: the input, then the reason. A failed write (full disk, no permission) names
    the file it could not write, and nothing half-written is left (writes are atomic)."""
    from tqdm import tqdm

    if isinstance(error, OSError) and not isinstance(error, UserFacingError):
        reason = (error.strerror or str(error)).lower()
        target = f" {error.filename}" if error.filename else ""
        error = UserFacingError(f"cannot write{target}: {reason}")
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    name = Path(video).name
    if not (message.startswith(f"{name}:") or message.startswith(f"{video}:")):
        message = f"{video}: {message}"
    tqdm.write(f"rhpnet-coach: error: {message}", file=sys.stderr)


def _analyse_one(
    video: str, factory: EstimatorFactory, pool: ChunkPool, args: argparse.Namespace
) -> None:
    from tqdm import tqdm

    from app.core.parallel import worker_chunks
    from app.core.pipeline import analyze_video
    from rhpnet.media.video import open_video

    name = Path(video).name
    started = time.perf_counter()
    corrected = _corrected_analysis(video, factory.options, args.out)
    if corrected is not None:
        tqdm.write(
            f"{name}: reusing {corrected[1].name}, which holds hand corrections "
            "(docs/corrections.md); delete it to analyse afresh",
            file=sys.stderr,
        )
        options = factory.options
        analysis = dataclasses.replace(
            corrected[0],
            slowmo=options.slowmo,
            subject_id=corrected[0].subject_id if options.track_id is None else options.track_id,
        )
        _write_outputs(analysis, args, name, time.perf_counter() - started, workers=1)
        return
    with (
        open_video(video, image_fps=factory.options.image_fps) as source,
        tqdm(
            desc=name,
            total=source.info.frame_count,
            unit="frame",
            dynamic_ncols=True,
            file=sys.stderr,
        ) as bar,
    ):

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        workers = len(worker_chunks(source, factory.options.workers)) or 1
        analysis = analyze_video(source, factory=factory, pool=pool, progress=progress)
    _write_outputs(analysis, args, name, time.perf_counter() - started, workers)


def _corrected_analysis(
    video: str, options: AnalysisOptions, out_dir: Path
) -> tuple[Analysis, Path] | None:
    """The sidecar in ``out_dir`` if it holds hand corrections and was made from this video with
    these model settings: analysing again would lose the edits."""
    from app.core.analysis import Analysis, sidecar_path
    from app.core.sidecars import analysis_matches
    from rhpnet.errors import DataError
    from rhpnet.media.info import video_fingerprint

    sidecar = sidecar_path(out_dir, video)
    if not sidecar.is_file() or not Path(video).is_file():
        return None
    try:
        analysis = Analysis.load(sidecar)
    except DataError:
        return None
    if not analysis.corrections or not analysis_matches(
        analysis, video_fingerprint(video), options.model_settings()
    ):
        return None
    return analysis, sidecar


def _write_outputs(
    analysis: Analysis, args: argparse.Namespace, name: str, seconds: float, workers: int
) -> None:
    """Every output the options ask for (app/core/outputs.py), all or nothing, then the sidecar."""
    from tqdm import tqdm

    from app.core.outputs import OutputInputs, chosen_outputs, write_outputs
    from app.core.running_report import build_report

    for warning in analysis.warnings:
        tqdm.write(f"rhpnet-coach: warning: {name}: {warning}", file=sys.stderr)
    report = build_report(
        analysis, runner_height_cm=args.runner_height_cm, cutoff_hz=args.cutoff_hz
    )
    for note in report.notes:
        tqdm.write(f"rhpnet-coach: warning: {name}: {note}", file=sys.stderr)
    kinds = chosen_outputs(_output_options(args))
    with tqdm(
        desc=f"{name} overlay",
        unit="frame",
        total=analysis.frame_count,
        file=sys.stderr,
        disable=not any(kind.long_running for kind in kinds),  # the only slow output
    ) as bar:
        written = write_outputs(
            OutputInputs(analysis, report),
            kinds,
            args.out,
            progress=lambda done, total: bar.update(done - bar.n),
        )
    subject = analysis.subject()
    seen = subject.frame_count_present if subject is not None else 0
    tqdm.write(
        f"{name}: {analysis.frame_count} frames in {seconds:.1f} s "
        f"({analysis.frame_count / max(seconds, 1e-9):.1f} frames/s"
        + (f", {workers} workers" if workers > 1 else "")
        + f"), {len(analysis.tracks)} "
        f"track(s), runner = track {analysis.subject_id} seen in {seen} frames -> "
        + ", ".join(p.name for p in written),
        file=sys.stderr,
    )


def _output_options(args: argparse.Namespace) -> list[str]:
    """The output options given, spelled as on the command line (``OutputKind.option``)."""
    flags = {
        "--no-video": args.no_video,
        "--plots": args.plots,
        "--cycles": args.cycles,
        "--opensim": args.opensim,
        "--report": args.report,
    }
    return [flag for flag, given in flags.items() if given]


def record_webcam(index: int, duration_s: float, out_dir: Path) -> Path:
    """Record ``duration_s`` seconds from a camera to ``<out>/webcam<index>-<time>.mp4``."""
    from tqdm import tqdm

    from app.core.live import Recorder
    from rhpnet.media.video import WebcamSource

    target = out_dir / f"webcam{index}-{time.strftime('%Y%m%d-%H%M%S')}.mp4"
    with WebcamSource(index, max_duration_s=duration_s) as camera:
        info = camera.info
        with (
            Recorder(target, info.width, info.height, info.fps) as recorder,
            tqdm(
                desc=f"recording webcam {index}", total=round(duration_s), unit="s", file=sys.stderr
            ) as bar,
        ):
            for frame in camera.frames():
                recorder.write(frame.image, frame.time_s)
                bar.update(int(frame.time_s) - bar.n)
            if recorder.frames_written == 0:
                raise UserFacingError(f"webcam {index}: no frames recorded")
    return target
