"""User preferences persisted with QSettings: model choice, analysis options, view state.

One typed wrapper so the rest of the UI never spells a settings key twice. The INI format is
used on every platform so a user (or a test) can read and reset the file by hand; tests pass
their own ``QSettings`` pointing into a temporary folder.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from app.core.options import DEFAULT_CUTOFF_HZ, DEVICES, LIMITS, MODELS, Limit

ORGANIZATION = "RHPNet"
APPLICATION = "RHPNet Coach"
MAX_RECENT_FILES = 10


@dataclass
class AnalysisPreferences:
    """What the user chose for analysing every video.

    The slow-motion factor is not one of them: it belongs to each video and is saved with its
    analysis (a 240 fps clip's factor must not carry over to the next, real-time clip).
    """

    model: str = "default"
    checkpoint: str = ""
    device: str = "auto"
    max_people: int = 1
    filter_cutoff_hz: float = DEFAULT_CUTOFF_HZ
    runner_height_cm: float = 0.0
    # Worker processes per video; 0: one per usable CPU core.
    workers: int = 0

    def validated(self) -> AnalysisPreferences:
        """Clamp values read from a hand-edited or older settings file into valid ranges."""
        return AnalysisPreferences(
            model=self.model if self.model in MODELS else "default",
            checkpoint=self.checkpoint,
            device=self.device if self.device in DEVICES else "auto",
            max_people=int(LIMITS.max_people.clamp_offered(int(self.max_people))),
            filter_cutoff_hz=LIMITS.cutoff_hz.clamp_offered(float(self.filter_cutoff_hz)),
            # 0 means unknown.
            runner_height_cm=_clamp_or_zero(float(self.runner_height_cm), LIMITS.runner_height_cm),
            workers=int(_clamp_or_zero(int(self.workers), LIMITS.workers)),  # 0: every core
        )


def _clamp_or_zero(value: float, limit: Limit) -> float:
    """0 stays 0 (unknown, or automatic); anything else is moved into ``limit``'s range."""
    return 0.0 if value <= 0 else min(max(value, limit.low), limit.high)


def default_qsettings() -> QSettings:
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


class AppSettings:
    """Typed access to the app's QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings if qsettings is not None else default_qsettings()

    @property
    def file_name(self) -> str:
        return self._q.fileName()

    def analysis(self) -> AnalysisPreferences:
        prefs = AnalysisPreferences()
        values = {}
        for f in fields(AnalysisPreferences):
            default = getattr(prefs, f.name)
            raw = self._q.value(f"analysis/{f.name}", default)
            try:
                values[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                values[f.name] = default
        return AnalysisPreferences(**values).validated()

    def set_analysis(self, prefs: AnalysisPreferences) -> None:
        for f in fields(AnalysisPreferences):
            self._q.setValue(f"analysis/{f.name}", getattr(prefs, f.name))
        self._q.sync()

    def recent_files(self) -> list[str]:
        raw = self._q.value("recent/files", [])
        if isinstance(raw, str):
            raw = [raw]
        return [str(p) for p in (raw or [])][:MAX_RECENT_FILES]

    def add_recent_file(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT_FILES]
        self._q.setValue("recent/files", files)
        self._q.sync()
        return files

    def remove_recent_file(self, path: str) -> None:
        self._q.setValue("recent/files", [p for p in self.recent_files() if p != path])
        self._q.sync()

    def value(self, key: str, default: object) -> object:
        """A view preference (overlay toggles, chosen angles...), typed like ``default``."""
        raw = self._q.value(f"view/{key}", default)
        if isinstance(default, bool):
            return raw in (True, "true", "1", 1)
        if isinstance(default, list):
            if raw is None:
                return []
            return [str(v) for v in ([raw] if isinstance(raw, str) else raw)]
        try:
            return type(default)(raw)
        except (TypeError, ValueError):
            return default

    def set_value(self, key: str, value: object) -> None:
        self._q.setValue(f"view/{key}", value)

    def window_state(self) -> tuple[bytes | None, bytes | None]:
        return self._q.value("window/geometry"), self._q.value("window/state")

    def set_window_state(self, geometry: bytes, state: bytes) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.setValue("window/state", state)
        self._q.sync()
