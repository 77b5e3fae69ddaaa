"""The per-user cache folder of rhpnet-coach: downloaded weights, the built BlazePose bundle.

Everything in it can be rebuilt or downloaded again, so it lives where the platform keeps
caches (and where users expect to be able to delete it), not beside settings or results.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_CACHE_NAME = "rhpnet-coach"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rhpnet-coach`` (``~/.cache`` by default; the platform folder elsewhere)."""
    if os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / APP_CACHE_NAME
