"""User-facing errors: problems with the user's input, reported as one clear line.

Code raises a subclass of ``UserFacingError`` when the cause is outside the program (a corrupt
video, a wrong checkpoint, a malformed annotation file, a full disk). The command line prints the
message without a traceback; the GUI shows it in a dialog. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message alone tells the user what is wrong and what to do."""


class CheckpointError(UserFacingError):
    """A checkpoint file cannot be used: not a checkpoint, wrong architecture, truncated, ..."""


class DataError(UserFacingError):
    """Input data (images, annotations, videos) cannot be read or is malformed."""
