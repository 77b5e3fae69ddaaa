"""``rhpnet-coach`` without a display: a one-line message pointing at the headless command."""

from __future__ import annotations

import pytest


def _no_qt(*_args, **_kwargs):
    raise AssertionError("Qt must not be started without a display")


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(main.sys, "platform", "linux")
    monkeypatch.setattr(main, "create_app", _no_qt)


def test_the_app_without_a_display_says_so_and_exits_2(no_display, capsys):
    from app.cli import main as cli_main

    assert cli_main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rhpnet-coach: error: the desktop app needs a graphical session")
    assert "rhpnet-coach analyze VIDEO --out DIR" in err


@pytest.mark.parametrize(
    ("environ", "platform", "lacks"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ""}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_what_counts_as_no_display(environ, platform, lacks):
    from app.ui.main import lacks_a_display

    assert lacks_a_display(environ, platform) is lacks
