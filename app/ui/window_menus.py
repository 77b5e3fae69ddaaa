"""The main window's actions, menus and toolbar, with their keyboard shortcuts.

Shortcuts are window-wide (docs/app.md lists them). The view toggles (skeleton, angle labels,
other people) are remembered in the settings; the Open recent menu follows the settings' list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QWidget

from app.ui.correction_actions import CorrectionActions
from app.ui.player import PlayerWidget
from app.ui.settings import AppSettings


@dataclass(frozen=True)
class WindowCommands:
    """What the File, Analysis and Help entries do (the window's own slots)."""

    choose_video: Callable[[], None]
    open_video: Callable[[str], None]
    show_webcam: Callable[[], None]
    reanalyse: Callable[[], None]
    show_settings: Callable[[], None]
    quit: Callable[[], None]
    show_about: Callable[[], None]


@dataclass(frozen=True)
class MenuParts:
    """Pieces other controllers own that the menus and toolbar show."""

    compare_action: QAction
    populate_export_menu: Callable[[QMenu], None]
    corrections: CorrectionActions
    docks: Sequence[QDockWidget]
    runner_box: QWidget


# (canvas option and settings key, menu text, key, tip) of what the View menu toggles
VIEW_TOGGLES = (
    ("show_skeleton", "Skeleton", "S", "Show the skeleton overlay"),
    ("show_angles", "Angle labels", "A", "Show joint angles next to the joints"),
    ("show_others", "Other people", "O", "Show people other than the analysed runner"),
)


class WindowMenus:
    """Builds every action of ``window`` and puts them in its menu bar and toolbar."""

    def __init__(
        self,
        window: QMainWindow,
        player: PlayerWidget,
        settings: AppSettings,
        commands: WindowCommands,
        parts: MenuParts,
    ) -> None:
        self.window = window
        self.player = player
        self.settings = settings
        self.commands = commands
        key = QKeySequence
        p = player
        self.open_action = self._action(
            "&Open video…", commands.choose_video, key(key.StandardKey.Open), "Open a running video"
        )
        self.webcam_action = self._action(
            "&Webcam…",
            commands.show_webcam,
            key("Ctrl+W"),
            "Live camera, recording and delayed replay",
        )
        self.reanalyse_action = self._action(
            "&Re-analyse",
            commands.reanalyse,
            key("Ctrl+R"),
            "Analyse the video again with the current settings",
        )
        self.settings_action = self._action("&Settings…", commands.show_settings, key("Ctrl+,"))
        self.quit_action = self._action("&Quit", commands.quit, key(key.StandardKey.Quit))
        self.playback_actions = [
            self._action("Play / pause", p.toggle_play, key(Qt.Key.Key_Space)),
            self._action("Previous frame", lambda: p.step(-1), key(Qt.Key.Key_Left)),
            self._action("Next frame", lambda: p.step(1), key(Qt.Key.Key_Right)),
            self._action("Previous foot strike", p.previous_strike, key(Qt.Key.Key_Comma)),
            self._action("Next foot strike", p.next_strike, key(Qt.Key.Key_Period)),
            self._action("First frame", p.go_first, key(Qt.Key.Key_Home)),
            self._action("Last frame", p.go_last, key(Qt.Key.Key_End)),
            self._action("Faster", lambda: p.change_speed(1), key(Qt.Key.Key_Up)),
            self._action("Slower", lambda: p.change_speed(-1), key(Qt.Key.Key_Down)),
        ]
        self.zoom_actions = [
            self._action("Fit to window", p.canvas.fit_to_window, key("F")),
            self._action("Actual size (100%)", lambda: p.canvas.set_zoom(1.0), key("1")),
            self._action("Zoom in", lambda: p.zoom_by(1.25), [key("+"), key("=")]),
            self._action("Zoom out", lambda: p.zoom_by(1 / 1.25), key("-")),
        ]
        self.view_toggles = {name: self._view_toggle(name, *rest) for name, *rest in VIEW_TOGGLES}
        self.skeleton_action = self.view_toggles["show_skeleton"]
        self.angles_action = self.view_toggles["show_angles"]
        self.others_action = self.view_toggles["show_others"]
        self._build_menus(parts)
        self._build_toolbar(parts)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.window.addAction(action)
        return action

    def _view_toggle(self, name: str, text: str, shortcut: str, tip: str) -> QAction:
        """A checkable View entry for one canvas option, remembered in the settings."""
        options = self.player.canvas.options
        setattr(options, name, bool(self.settings.value(name, True)))
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(True)
        action.setChecked(getattr(options, name))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.toggled.connect(lambda on, n=name: self._toggle_view(n, on))
        self.window.addAction(action)
        return action

    def _toggle_view(self, name: str, on: bool) -> None:
        setattr(self.player.canvas.options, name, on)
        self.settings.set_value(name, on)
        self.player.canvas.update()

    def _build_menus(self, parts: MenuParts) -> None:
        menu = self.window.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.rebuild_recent_menu()
        file_menu.addAction(self.webcam_action)
        file_menu.addAction(parts.compare_action)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        parts.populate_export_menu(self.export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.edit_menu = menu.addMenu("&Edit")
        for action in parts.corrections.all_actions():
            self.window.addAction(action)
        view_menu = menu.addMenu("&View")
        view_menu.addActions(list(self.view_toggles.values()))
        view_menu.addSeparator()
        view_menu.addActions(self.zoom_actions)
        view_menu.addSeparator()
        view_menu.addActions([dock.toggleViewAction() for dock in parts.docks])
        menu.addMenu("&Playback").addActions(self.playback_actions)
        analysis_menu = menu.addMenu("&Analysis")
        analysis_menu.addActions([self.reanalyse_action, self.settings_action])
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&About RHPNet Coach", self.commands.show_about))

    def _build_toolbar(self, parts: MenuParts) -> None:
        toolbar = self.window.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addActions([self.open_action, self.webcam_action])
        export_button = toolbar.addAction("Export")
        export_button.setMenu(self.export_menu)
        button = toolbar.widgetForAction(export_button)
        button.setPopupMode(button.ToolButtonPopupMode.InstantPopup)
        toolbar.addSeparator()
        toolbar.addActions(list(self.view_toggles.values()))
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Runner ", self.window))
        toolbar.addWidget(parts.runner_box)
        toolbar.addSeparator()
        toolbar.addActions([self.reanalyse_action, self.settings_action])
        toolbar.addSeparator()
        parts.corrections.populate(self.edit_menu, toolbar)

    def rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.commands.open_video(p))
        self.recent_menu.setEnabled(bool(files))
