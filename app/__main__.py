"""``python -m app`` is the same as the ``rhpnet-coach`` command."""

from app.cli import main

raise SystemExit(main())
