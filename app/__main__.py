"""``python -m app`` is the same as the ``rhpnet-coach`` command."""

from app.cli import main

# Guarded: analysis worker processes start by importing this module under another name.
if __name__ == "__main__":
    raise SystemExit(main())
