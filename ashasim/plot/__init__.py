"""Plots of a run's ``Trace``: Gantt chart, learning curves, best-so-far, idle fraction vs workers.

Every function builds a ``matplotlib.figure.Figure`` directly (never ``pyplot``), so nothing opens
a window, plots work headless and in threads, and figures are freed with their last reference.
In Jupyter a returned figure displays as the cell's value; write one to disk with ``save``.
"""

from __future__ import annotations

from ashasim.plot.curves import (
    best_so_far,
    best_so_far_bands,
    idle_comparison,
    learning_curves,
    quartile_errorbar,
    save,
    workers_comparison,
)
from ashasim.plot.gantt import gantt

__all__ = [
    "best_so_far",
    "best_so_far_bands",
    "gantt",
    "idle_comparison",
    "learning_curves",
    "quartile_errorbar",
    "save",
    "workers_comparison",
]
