"""``python -m ashasim`` runs the command-line interface, as the ``ashasim`` command does."""

from ashasim.console import main

raise SystemExit(main())
