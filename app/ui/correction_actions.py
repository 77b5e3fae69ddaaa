"""The Edit menu: hand corrections of the open analysis, every one undoable (docs/corrections.md).

An edit never changes the estimate: it adds to the analysis' ``Corrections`` and the window is
handed a new ``Analysis`` holding them (a report still being computed from the old one is then
recognised as outdated). Undo hands back the analysis with the corrections before the edit, so
it restores exactly the previous analysis, metrics and all. The actions reach the window only
through the callables given: what the analysis and its events are, which frame is shown, how
to show another, and "use this analysis now" (which saves the sidecar and recomputes the report).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMenu, QSpinBox, QToolBar, QWidget

from app.core.analysis import Analysis
from app.core.corrections import (
    DEFAULT_SPREAD,
    Corrections,
    EventEdit,
    KeypointMove,
    LegSwap,
    UnusableFrame,
)
from app.core.gait import GaitEvent
from app.core.options import LIMITS
from rhpnet.skeleton import POSE_KEYPOINT_NAMES

# A frame is doubtful when the runner's leg points average below this confidence.
DOUBTFUL_SCORE = 0.5
_LEG_POINTS = [
    POSE_KEYPOINT_NAMES.index(f"{side}_{joint}")
    for side in ("left", "right")
    for joint in ("hip", "knee", "ankle", "heel", "big_toe")
]


class _CorrectionCommand(QUndoCommand):
    """One edit: redo applies the corrections after it, undo those before it."""

    def __init__(
        self, actions: CorrectionActions, before: Corrections, after: Corrections, text: str
    ) -> None:
        super().__init__(text)
        self._actions, self._before, self._after = actions, before, after

    def redo(self) -> None:
        self._actions.use_corrections(self._after, self.text())

    def undo(self) -> None:
        self._actions.use_corrections(self._before, f"Undone: {self.text()}")


class CorrectionActions(QObject):
    """Edit actions, their undo stack and the spread setting."""

    def __init__(
        self,
        parent: QWidget,
        analysis: Callable[[], Analysis | None],
        frame: Callable[[], int],
        use_analysis: Callable[[Analysis, str], None],
        events: Callable[[], list[GaitEvent]],
        seek: Callable[[int], None],
    ) -> None:
        super().__init__(parent)
        self._analysis, self._frame, self._use, self._events = analysis, frame, use_analysis, events
        self._seek = seek
        self.undo_stack = QUndoStack(self)
        self.swap_start: int | None = None
        self.spread_box = QSpinBox(parent)
        self.spread_box.setRange(*map(int, LIMITS.correction_spread.offered_range))
        self.spread_box.setValue(DEFAULT_SPREAD)
        self.spread_box.setPrefix("spread ±")
        self.spread_box.setSuffix(" frames")
        self.spread_box.setToolTip(
            "A dragged point also moves this many frames either side, fading out, so the "
            "filtered curves follow it; 0 changes only the frame shown"
        )
        key = QKeySequence
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(key(key.StandardKey.Undo))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([key("Ctrl+Shift+Z"), key(key.StandardKey.Redo)])
        self.event_actions = [
            self._make(
                f"Add {side} {label} here",
                lambda _checked=False, s=side, k=kind: self.add_event(s, k),
            )
            for kind, label in (("IC", "foot strike"), ("TO", "toe-off"))
            for side in ("left", "right")
        ]
        self.delete_event_action = self._make(
            "Delete the event at this frame", self.delete_event, key("Delete")
        )
        self.swap_start_action = self._make(
            "Start a leg swap at this frame",
            self.mark_swap_start,
            key("["),
        )
        self.swap_action = self._make(
            "Swap legs from the start mark to this frame", self.swap_legs, key("]")
        )
        self.unusable_action = self._make("Mark this frame unusable", self.mark_unusable, key("U"))
        self.next_doubtful_action = self._make(
            "Next doubtful frame", lambda: self.go_doubtful(1), key("D")
        )
        self.previous_doubtful_action = self._make(
            "Previous doubtful frame", lambda: self.go_doubtful(-1), key("Shift+D")
        )

    def _make(self, text: str, slot, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        return action

    def all_actions(self) -> list[QAction]:
        return [
            self.undo_action,
            self.redo_action,
            *self.event_actions,
            self.delete_event_action,
            self.swap_start_action,
            self.swap_action,
            self.unusable_action,
            self.next_doubtful_action,
            self.previous_doubtful_action,
        ]

    def populate(self, menu: QMenu, toolbar: QToolBar) -> None:
        menu.addAction(self.undo_action)
        menu.addAction(self.redo_action)
        menu.addSeparator()
        for action in self.event_actions:
            menu.addAction(action)
        menu.addAction(self.delete_event_action)
        menu.addSeparator()
        for action in (self.swap_start_action, self.swap_action, self.unusable_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.next_doubtful_action)
        menu.addAction(self.previous_doubtful_action)
        toolbar.addWidget(self.spread_box)

    def set_enabled(self, has_runner: bool) -> None:
        for action in self.all_actions()[2:]:
            action.setEnabled(has_runner)
        self.spread_box.setEnabled(has_runner)

    def reset(self) -> None:
        """Another video: its edits are its own, the undo history of this one goes."""
        self.undo_stack.clear()
        self.swap_start = None

    # --- edits ----------------------------------------------------------------------------
    def edit(self, change: KeypointMove | LegSwap | UnusableFrame | EventEdit, text: str) -> None:
        analysis = self._analysis()
        if analysis is None:
            return
        before = analysis.corrections
        self.undo_stack.push(_CorrectionCommand(self, before, before.plus(change), text))

    def use_corrections(self, corrections: Corrections, text: str) -> None:
        analysis = self._analysis()
        if analysis is not None:
            self._use(dataclasses.replace(analysis, corrections=corrections), text)

    def _runner(self) -> int | None:
        analysis = self._analysis()
        return None if analysis is None else analysis.subject_id

    def move_keypoint(self, track_id: int, frame: int, joint: int, x: float, y: float) -> None:
        name = POSE_KEYPOINT_NAMES[joint]
        spread = self.spread_box.value()
        move = KeypointMove(track_id, frame, name, float(x), float(y), spread)
        self.edit(move, f"Move the {name.replace('_', ' ')} in frame {frame + 1}")

    def add_event(self, side: str, kind: str) -> None:
        runner, frame = self._runner(), self._frame()
        if runner is not None:
            label = "foot strike" if kind == "IC" else "toe-off"
            self.edit(
                EventEdit(runner, side, kind, "add", frame),
                f"Add a {side} {label} at frame {frame + 1}",
            )

    def move_event(self, side: str, kind: str, frame: int, to_frame: int) -> None:
        """Move the ``kind`` ("ic"/"IC" or "to"/"TO") event of ``side`` at ``frame`` (an event
        marker dragged on the angle plot)."""
        runner = self._runner()
        if runner is None:
            return
        kind = kind.upper()
        edit = EventEdit(runner, side, kind, "move", frame, to_frame)
        self.edit(edit, f"Move the {side} {kind} from frame {frame + 1} to {to_frame + 1}")

    def delete_event(self) -> None:
        runner, frame = self._runner(), self._frame()
        here = [e for e in self._events() if abs(e.frame - frame) <= 1]
        if runner is None or not here:
            return
        event = min(here, key=lambda e: abs(e.frame - frame))
        edit = EventEdit(runner, event.side, event.kind, "delete", event.frame)
        self.edit(edit, f"Delete the {event.side} {event.kind} at frame {event.frame + 1}")

    def mark_swap_start(self) -> None:
        self.swap_start = self._frame()

    def swap_legs(self) -> None:
        runner, frame = self._runner(), self._frame()
        if runner is None:
            return
        first, last = sorted((frame if self.swap_start is None else self.swap_start, frame))
        self.swap_start = None
        self.edit(LegSwap(runner, first, last), f"Swap legs in frames {first + 1}-{last + 1}")

    def mark_unusable(self) -> None:
        runner, frame = self._runner(), self._frame()
        if runner is not None:
            self.edit(UnusableFrame(runner, frame), f"Frame {frame + 1} unusable")

    def go_doubtful(self, direction: int) -> None:
        """Step to the next (or previous) frame whose leg points the model was unsure of."""
        frames = self.doubtful_frames()
        frame = self._frame()
        ahead = frames[frames > frame] if direction > 0 else frames[frames < frame][::-1]
        if len(ahead):
            self._seek(int(ahead[0]))

    def doubtful_frames(self) -> np.ndarray:
        analysis = self._analysis()
        if analysis is None or analysis.subject() is None:
            return np.zeros(0, int)
        scores = analysis.subject().keypoints[:, _LEG_POINTS, 2]
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(np.isfinite(scores), scores, 0.0), axis=1)
        return np.flatnonzero(analysis.subject().present & (mean < DOUBTFUL_SCORE))
