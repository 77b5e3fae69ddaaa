"""Who is drawn on a frame, and with which angle labels.

While the analysis runs, every person the tracker sees is drawn in full (no runner is chosen
yet); afterwards the tracks of the analysis are drawn as corrected by hand
(docs/corrections.md), the chosen runner highlighted and labelled with the angles ticked in the
plot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from app.core.analysis import Analysis, Track
from app.viewmodels.items import AngleLabel, PersonPose
from app.viewmodels.report_view import ReportView, angle_labels_at

if TYPE_CHECKING:
    from app.core.estimation import FrameResult


class LiveFrames(Protocol):
    """Poses delivered frame by frame while an analysis runs."""

    frames: dict[int, FrameResult]


class CorrectedTracks:
    """Each track as corrected by hand, computed once per analysis (edits replace the analysis)."""

    def __init__(self) -> None:
        self._analysis: Analysis | None = None
        self._tracks: dict[int, Track] = {}

    def get(self, analysis: Analysis, track_id: int) -> Track:
        if analysis is not self._analysis:
            self._analysis, self._tracks = analysis, {}
        if track_id not in self._tracks:
            self._tracks[track_id] = analysis.corrected_track(track_id)[0]
        return self._tracks[track_id]


def live_people_at(live: LiveFrames | None, index: int) -> list[PersonPose]:
    """Everyone the running analysis has seen in frame ``index``."""
    result = live.frames.get(index) if live is not None else None
    if result is None:
        return []
    poses = result.poses
    return [
        PersonPose(int(track_id), poses.keypoints[i], poses.boxes[i], True)
        for i, track_id in enumerate(result.track_ids)
    ]


def people_at(
    analysis: Analysis, tracks: CorrectedTracks, index: int
) -> tuple[list[PersonPose], Track | None]:
    """The people of the analysis present in frame ``index``, and the runner's track."""
    people = []
    for track_id in analysis.tracks:
        track = tracks.get(analysis, track_id)
        if np.isfinite(track.scores[index]):
            people.append(
                PersonPose(
                    track_id,
                    track.keypoints[index],
                    track.boxes[index],
                    track_id == analysis.subject_id,
                )
            )
    subject = analysis.subject_id
    return people, tracks.get(analysis, subject) if subject in analysis.tracks else None


class OverlayPeople:
    """The overlay of one frame from whatever the open video has: live poses or an analysis."""

    def __init__(self) -> None:
        self.tracks = CorrectedTracks()

    def at(
        self,
        index: int,
        analysis: Analysis | None,
        live: LiveFrames | None,
        report: ReportView | None,
        angle_names: list[str],
    ) -> tuple[list[PersonPose], list[AngleLabel]]:
        if analysis is None:
            return live_people_at(live, index), []
        if index >= analysis.frame_count:
            return [], []
        people, subject = people_at(analysis, self.tracks, index)
        if subject is None or report is None or report.subject_id != analysis.subject_id:
            return people, []
        return people, angle_labels_at(report, subject.keypoints[index], index, angle_names)
