"""The files every run directory holds, whichever clock made the run.

``journal.jsonl`` is written by the run itself as it happens; from it come the results
(``results.csv``, ``summary.json``: ``write_results``), the replay table (``replay.csv``:
``export_tabular``) and the figures (``gantt.png/.svg``, ``curves.png/.svg``: ``write_figures``).
A framed run (``ashasim.Experiment``, on either clock, with ``outputs=True``) writes the results
and the replay table (``write_run_outputs``); the CLI adds the figures, and ``ashasim plot DIR``
remakes them.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ashasim.events import JobStarted, Reported, Trace

__all__ = [
    "export_tabular",
    "format_summary",
    "tabular_rows",
    "write_figures",
    "write_outputs",
    "write_results",
    "write_run_outputs",
]


def write_results(trace: Trace, out: Path) -> list[Path]:
    """Write results.csv (one row per report) and summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    summary = json.dumps(trace.summary(), indent=1) + "\n"
    return [
        replace_file(out / "results.csv", trace.to_csv),
        replace_file(out / "summary.json", lambda path: path.write_text(summary, "utf-8")),
    ]


def replace_file(target: Path, write: Callable[[Path], Any]) -> Path:
    """*write* a new file in place of *target*: into a fresh temporary file beside it, then
    renamed over it. A *target* that is a symbolic link is replaced, never written through (a
    run directory shared with others cannot be made to overwrite a file outside it). The file
    gets the permissions the user's umask gives a new file."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # a stale one (or a link planted there): gone, not followed
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    os.close(os.open(temporary, flags, 0o666))  # new, ours, with the umask's permissions
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def write_run_outputs(trace: Trace, out: Path) -> list[Path]:
    """What a finished run leaves beside its journal, whichever clock ran it: results.csv,
    summary.json and replay.csv (the run as a table the simulator can replay)."""
    replay = replace_file(out / "replay.csv", lambda path: export_tabular(trace, path))
    return [*write_results(trace, out), replay]


def write_figures(trace: Trace, out: Path, *, title: str | None = None) -> list[Path]:
    """Write the Gantt chart and the learning curves (PNG + SVG); when the run's levels are not
    epochs, also the curves against the fidelity's real values (``curves_fidelity``)."""
    from ashasim.plot import gantt, learning_curves, save

    out.mkdir(parents=True, exist_ok=True)
    written = save(gantt(trace, title=title), out / "gantt")
    written += save(learning_curves(trace), out / "curves")
    if trace.fidelity is not None:
        written += save(learning_curves(trace, x="fidelity"), out / "curves_fidelity")
    return written


def write_outputs(trace: Trace, out: Path, *, title: str | None = None) -> list[Path]:
    """Results and figures: what the CLI writes for every run."""
    return write_results(trace, out) + write_figures(trace, out, title=title)


def format_summary(summary: dict[str, Any], *, header: str) -> str:
    """The one-screen summary the CLI prints after a run."""
    lines = [header]
    lines.append(
        f"  trials     {summary['trials']}  (jobs {summary['jobs']}, reports "
        f"{summary['reports']}, failed jobs {summary['failed_jobs']})"
    )
    lines.append(f"  makespan   {summary['makespan']:,.1f} s on {summary['n_workers']} workers")
    lines.append(f"  idle       {summary['idle_fraction']:.1%} of worker time")
    if summary["best_metric"] is None:
        lines.append(f"  best       no finite {summary['metric']} reported")
    else:
        where = f"resource {summary['best_resource']}"
        if summary.get("fidelity") is not None:  # levels that are not epochs: say the real value
            where = f"{summary['fidelity']} {summary['best_fidelity']}"
        lines.append(
            f"  best       {summary['metric']} = {summary['best_metric']:.4g} (trial "
            f"{summary['best_trial']} at {where})"
        )
        lines.append(f"  time to best {summary['time_to_best']:,.1f} s")
    return "\n".join(lines)


# -- recording -> replay (see ``ashasim.run.export``) ------------------------------------------


def tabular_rows(trace: Trace) -> list[dict[str, Any]]:
    """One row per (config, epoch) observed: the config's keys, epoch, seconds, metric."""
    resource_attr = trace.info.get("resource_attr", "epoch")
    starts: dict[int, tuple[float, dict[str, Any]]] = {}  # worker -> (last time, config)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for event in trace.events:
        if type(event) is JobStarted:
            starts[event.worker] = (event.t, event.config)
        elif type(event) is Reported:
            last, config = starts[event.worker]
            starts[event.worker] = (event.t, config)
            key = (repr(sorted(config.items())), event.resource)
            # a trial trained twice over an epoch (a retrain) keeps its first observation
            rows.setdefault(
                key,
                {
                    **config,
                    resource_attr: event.resource,
                    "seconds": event.t - last,
                    "metric": event.metric,
                },
            )
    return list(rows.values())


def export_tabular(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write ``tabular_rows(trace)`` as CSV, ready for ``Tabular(path, resource_attr=...)``."""
    rows = tabular_rows(trace)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    target = Path(path)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns) or ["epoch", "seconds", "metric"])
        writer.writeheader()
        writer.writerows(rows)
    return target
