"""Numbers as CSV text, by one rule for every table the app writes: an empty cell where missing.

Spreadsheets and pandas read an empty cell as missing, whereas ``nan`` is read as text by some
and as a number by others. Whole columns are formatted by numpy at once, so the tables of a long
clip (tens of thousands of rows) need no Python loop per cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def number_column(values: np.ndarray, fmt: str) -> np.ndarray:
    """``values`` formatted with the printf-style ``fmt``; empty strings where not finite."""
    values = np.asarray(values, np.float64)
    return np.where(np.isfinite(values), np.char.mod(fmt, values), "")


def number_cell(value: float | None, fmt: str) -> str:
    """One value as ``number_column`` formats it (``None`` is missing too)."""
    return "" if value is None else str(number_column(np.asarray([value]), fmt)[0])


def csv_from_columns(header: Sequence[str], columns: Sequence[np.ndarray]) -> str:
    """A CSV table of already formatted columns (plain numbers and names: nothing to quote)."""
    lines = [",".join(header)]
    if columns and len(columns[0]):
        table = np.stack([np.asarray(c, str) for c in columns], axis=1)
        lines += [",".join(row) for row in table.tolist()]
    return "\n".join(lines) + "\n"
