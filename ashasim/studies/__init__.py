"""The studies behind ``ashasim reproduce``: library code the thin scripts in ``experiments/``
and the CLI share (so a figure is made one way, whoever asks for it)."""
