"""The one time formatter of the player's timecode and the status bar."""

from __future__ import annotations

import math

from app.ui.clock import format_clock


def test_clock_rounds_before_splitting_minutes():
    assert format_clock(59.996, 2) == "1:00.00"  # was 0:60.00
    assert format_clock(59.6) == "1:00"
    assert format_clock(5.25, 2) == "0:05.25"
    assert format_clock(754.0) == "12:34"
    assert format_clock(3 * 3600 + 65.5, 1) == "3:01:05.5"
    assert format_clock(-2.0) == "0:00"
    assert format_clock(math.nan, 2) == "--:--.--"
