"""``python -m ashasim`` runs the command-line interface."""

try:
    from ashasim.cli import main
except KeyboardInterrupt:  # Ctrl-C while the interpreter is still importing: no traceback
    raise SystemExit(130) from None

raise SystemExit(main())
