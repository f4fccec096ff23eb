"""``python -m ashasim`` runs the command-line interface."""

from ashasim.cli import main

raise SystemExit(main())
