"""The toolbar's runner chooser: every track of the analysis with the share of frames it is in."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from app.core.analysis import Analysis


class RunnerBox(QComboBox):
    """``runnerChosen(track_id)`` when the user picks a person."""

    runnerChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(170)
        self.setToolTip("The person analysed (or click them in the video)")
        self.activated.connect(lambda i: self.runnerChosen.emit(int(self.itemData(i))))

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.clear()
        if analysis is None:
            return
        for track_id in sorted(analysis.tracks):
            track = analysis.tracks[track_id]
            share = track.frame_count_present / max(1, analysis.frame_count)
            self.addItem(f"#{track_id}  ·  seen in {share:.0%}", track_id)
        if analysis.subject_id is not None:
            self.show_runner(analysis.subject_id)

    def show_runner(self, track_id: int) -> None:
        self.setCurrentIndex(self.findData(track_id))
