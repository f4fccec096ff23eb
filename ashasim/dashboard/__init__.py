"""Watch runs in a browser as their journals grow, or write the same page as one HTML file.

* ``follower``: ``JournalFollower`` reads a journal once, then only what was appended;
* ``views``: the page's data (Gantt bars, curves, rungs, idle time, failures), size-bounded;
* ``runs``: which journals a set of paths holds, followed together;
* ``page``: the HTML page, live or self-contained; ``server``: the read-only HTTP server.

``ashasim dashboard RUN_DIR...`` and ``ashasim report RUN_DIR -o report.html`` are the commands;
``write_report`` and ``serve`` are what they call. Needs the ``dashboard`` extra (Plotly's JS).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ashasim.dashboard.follower import JournalFollower
from ashasim.dashboard.page import DashboardUnavailableError, render_page
from ashasim.dashboard.runs import RunSet, find_runs
from ashasim.dashboard.server import DashboardServer, make_server

__all__ = [
    "DashboardServer",
    "DashboardUnavailableError",
    "JournalFollower",
    "RunSet",
    "find_runs",
    "make_server",
    "write_report",
]


def write_report(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """The page for the runs under *paths*, as one self-contained HTML file at *out*."""
    runs = RunSet(find_runs(paths))
    views = runs.views()
    broken = [view for view in views if view["error"] or view["waiting"]]
    if broken:
        view = broken[0]
        raise ValueError(view["error"] or f"{view['path']}: no journal (not a run directory?)")
    out = Path(out)
    title = ", ".join(view["name"] for view in views)
    out.write_text(render_page(views, title=title), encoding="utf-8")
    return out
