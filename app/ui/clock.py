"""Times as a coach reads them: ``m:ss`` (``h:mm:ss`` past an hour), with hundredths for timecodes.

One formatter for the player's timecode and the status bar's elapsed/remaining times, so both
round the same way: to the shown precision first, so 59.996 s reads 1:00.00 and never 0:60.00.
"""

from __future__ import annotations

import math


def format_clock(seconds: float, decimals: int = 0) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss`` with ``decimals`` digits of fraction; dashes if
    unknown (NaN)."""
    if not math.isfinite(seconds):
        return "--:--" + ("." + "-" * decimals if decimals else "")
    scale = 10**decimals
    whole, fraction = divmod(round(max(0.0, seconds) * scale), scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{fraction:0{decimals}d}" if decimals else text
