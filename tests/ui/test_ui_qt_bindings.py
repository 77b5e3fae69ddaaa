"""The installed Qt bindings must not corrupt Python's reference counts.

PySide6 6.12.0 on Python 3.11 releases a reference to ``None`` on every call of a C++ method
returning void; a running app then aborts ("deallocating None") after a few thousand paints.
pyproject.toml excludes that release; this test fails loudly if such a build is installed.
"""

from __future__ import annotations

import sys


def test_void_qt_calls_keep_the_refcount_of_none():
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    color, point = QColor(1, 2, 3), QPointF(1.0, 2.0)
    before = sys.getrefcount(None)
    for _ in range(1000):
        color.setAlphaF(0.5)
        point.setX(3.0)
    assert sys.getrefcount(None) - before > -100
