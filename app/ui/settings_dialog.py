"""The Settings dialog: model and checkpoint, device, people, filtering, runner, slow motion."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.options import DEVICES, LIMITS, usable_cores
from app.ui.settings import AnalysisPreferences

MODEL_LABELS = {
    "default": "Bundled default (BlazePose, no download)",
    "rhpnet": "RHPNet (checkpoint required)",
    "hrnet": "HRNet-W32 (checkpoint required)",
}
CHECKPOINT_FILTER = "Checkpoints (*.pth *.pt *.ckpt *.bin *.safetensors);;All files (*)"


class SettingsDialog(QDialog):
    """The app-wide preferences, plus the open video's slow-motion factor (``slowmo``; None when
    no video is open, which disables that field)."""

    def __init__(
        self,
        prefs: AnalysisPreferences,
        parent: QWidget | None = None,
        *,
        slowmo: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self.model_box = QComboBox(self)
        for key, label in MODEL_LABELS.items():
            self.model_box.addItem(label, key)
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(prefs.model)))
        self.checkpoint_edit = QLineEdit(prefs.checkpoint, self)
        self.checkpoint_edit.setPlaceholderText("path to a .pth checkpoint")
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self._browse_checkpoint)
        checkpoint_row = QWidget(self)
        row = QHBoxLayout(checkpoint_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.checkpoint_edit, 1)
        row.addWidget(self.browse_button)
        self.device_box = QComboBox(self)
        for device in DEVICES:
            self.device_box.addItem(device, device)
        self.device_box.setCurrentIndex(max(0, self.device_box.findData(prefs.device)))
        self.people_spin = QSpinBox(self)
        self.people_spin.setRange(*map(int, LIMITS.max_people.offered_range))
        self.people_spin.setValue(prefs.max_people)
        self.workers_spin = QSpinBox(self)
        self.workers_spin.setRange(0, int(LIMITS.workers.high))  # 0: one per core
        self.workers_spin.setSpecialValueText(f"all cores ({usable_cores()})")
        self.workers_spin.setValue(prefs.workers)
        self.workers_spin.setToolTip(
            "Worker processes that analyse parts of a video side by side; 1 analyses in the "
            "app's own process"
        )
        self.cutoff_spin = QDoubleSpinBox(self)
        self.cutoff_spin.setRange(*LIMITS.cutoff_hz.offered_range)
        self.cutoff_spin.setDecimals(1)
        self.cutoff_spin.setSuffix(" Hz")
        self.cutoff_spin.setValue(prefs.filter_cutoff_hz)
        self.height_spin = QDoubleSpinBox(self)
        self.height_spin.setRange(0.0, LIMITS.runner_height_cm.high)  # 0: unknown
        self.height_spin.setDecimals(0)
        self.height_spin.setSuffix(" cm")
        self.height_spin.setSpecialValueText("unknown")
        self.height_spin.setValue(prefs.runner_height_cm)
        self.slowmo_spin = QDoubleSpinBox(self)
        self.slowmo_spin.setRange(*LIMITS.slowmo.offered_range)
        self.slowmo_spin.setDecimals(1)
        self.slowmo_spin.setSuffix(" ×")
        self.slowmo_spin.setValue(1.0 if slowmo is None else slowmo)
        self.slowmo_spin.setEnabled(slowmo is not None)
        self.slowmo_spin.setToolTip(
            "How many times slower than reality this video plays (8 for 240 fps footage played "
            "at 30 fps); saved with this video's analysis"
            if slowmo is not None
            else "Open a video to set its slow-motion factor"
        )
        self.warning = QLabel("", self)
        self.warning.setStyleSheet("color: #ffbe5a")
        self.warning.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Pose model", self.model_box)
        form.addRow("Checkpoint", checkpoint_row)
        form.addRow("Device", self.device_box)
        form.addRow("Max people", self.people_spin)
        form.addRow("Analysis workers", self.workers_spin)
        form.addRow("Filter cutoff", self.cutoff_spin)
        form.addRow("Runner height", self.height_spin)
        form.addRow("Slow motion (this video)", self.slowmo_spin)
        note = QLabel(
            "Model, checkpoint, max people and workers apply at the next analysis (Analysis ▸ Re-analyse). "
            "Filter, height and slow motion update the report at once. The slow-motion factor "
            "belongs to the open video (8 for 240 fps footage played at 30 fps): other videos "
            "keep their own.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #9aa0aa")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.warning)
        layout.addWidget(self.buttons)
        self.model_box.currentIndexChanged.connect(self._update_checkpoint_state)
        self._update_checkpoint_state()

    def preferences(self) -> AnalysisPreferences:
        return AnalysisPreferences(
            model=self.model_box.currentData(),
            checkpoint=self.checkpoint_edit.text().strip(),
            device=self.device_box.currentData(),
            max_people=self.people_spin.value(),
            filter_cutoff_hz=self.cutoff_spin.value(),
            runner_height_cm=self.height_spin.value(),
            workers=self.workers_spin.value(),
        ).validated()

    def slowmo(self) -> float | None:
        """The open video's slow-motion factor, or None when no video is open."""
        return self.slowmo_spin.value() if self.slowmo_spin.isEnabled() else None

    def _browse_checkpoint(self) -> None:
        start = str(Path(self.checkpoint_edit.text()).parent) if self.checkpoint_edit.text() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a checkpoint", start, CHECKPOINT_FILTER)
        if path:
            self.checkpoint_edit.setText(path)

    def _update_checkpoint_state(self) -> None:
        needs = self.model_box.currentData() != "default"
        self.checkpoint_edit.setEnabled(needs)
        self.browse_button.setEnabled(needs)
        self.warning.setText("")

    def _accept_if_valid(self) -> None:
        prefs = self.preferences()
        if prefs.model != "default":
            if not prefs.checkpoint:
                self.warning.setText(f"{MODEL_LABELS[prefs.model]}: choose a checkpoint file.")
                return
            if not Path(prefs.checkpoint).expanduser().is_file():
                self.warning.setText(f"Checkpoint not found: {prefs.checkpoint}")
                return
        self.accept()
