"""``python -m app`` is the same as the ``rhpnet-coach`` command."""

from app.core.cli import main

raise SystemExit(main())
