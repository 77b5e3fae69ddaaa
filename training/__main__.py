"""``python -m training`` (and ``torchrun -m training``) runs the training command line."""

from training.cli import main

raise SystemExit(main())
