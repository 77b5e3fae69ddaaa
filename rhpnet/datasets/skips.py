"""Counting what a loader leaves out, so bad entries are neither fatal nor silent.

Real annotation files are messy: a converted set may have a box of zero area, a keypoint outside
its image or an image that was never copied. Each such entry is skipped and counted by kind, with
the first example kept so the user can find it, and the loader logs one warning line per kind.
A run over 150k people is then neither stopped nor silently poisoned by a handful of bad ones.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path


class SkipCounter:
    """Skipped entries of one file, counted per kind, with the first example of each kind.

    Kinds are plural noun phrases ("annotations with zero-area boxes") so that a count reads
    as a sentence: ``annotations.json: skipped 3 annotations with zero-area boxes (first: ...)``.
    """

    def __init__(self, source: str | Path) -> None:
        self.source = str(source)
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] += 1
        self.examples.setdefault(kind, example)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self) -> str:
        """All kinds on one line, for an error message: ``2 missing image files, 1 ...``."""
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))

    def summary_lines(self) -> list[str]:
        """One line per kind, with the count and the first example."""
        return [
            f"{self.source}: skipped {n} {kind} (first: {self.examples[kind]})"
            for kind, n in sorted(self.counts.items())
        ]

    def log_summary(self, logger: logging.Logger) -> None:
        for line in self.summary_lines():
            logger.warning(line)
