"""Benchmark: what following a long run costs the dashboard.

A run of ``--jobs`` one-epoch jobs (default 10^5, round robin over ``--workers`` workers, one
report each: ``long_run``) is written to a journal; then, in CPU seconds of this process
(``time.process_time``: the machine is shared):

* ``first read``: the follower reads the whole journal once;
* ``follow``: 100 more jobs appended, the next poll reads only those lines;
* ``idle poll``: a poll when nothing was appended;
* ``view``: the page's data for the whole run (rebuilt only when the journal changed), and its
  size as JSON: bounded by ``MAX_BARS`` bars, ``AGGREGATE_BINS`` strips and ``MAX_CURVE_POINTS``
  points whatever the run's length, so the page stays responsive.

``--browser`` also writes the run's report and opens it in headless chromium (playwright, as the
browser tests do): wall-clock seconds until the page is drawn, then per chart the time Plotly takes
to draw it again (what each live update costs), and a zoom of the Gantt chart.

    python experiments/bench_dashboard.py [--jobs 100000] [--workers 64] [--browser]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ashasim.dashboard.follower import JournalFollower
from ashasim.dashboard.page import embed_json
from ashasim.dashboard.views import run_view
from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported, Trace


def long_run(n_jobs: int, n_workers: int = 64, journal: Path | None = None) -> Trace:
    """n_jobs one-epoch jobs, round robin over the workers, each with one report (seed 0)."""
    info = {"n_workers": n_workers, "scheduler": {"name": "ASHA", "rung_levels": [1]}}
    trace = Trace(info, journal=journal)
    lengths = np.random.default_rng(0).uniform(0.5, 2.0, n_jobs)
    free = np.zeros(n_workers)
    pending = []
    for job in range(n_jobs):
        worker = job % n_workers
        start, end = float(free[worker]), float(free[worker] + lengths[job])
        free[worker] = end + 0.1
        pending.append((start, 0, JobStarted(start, worker, job, {"x": job}, 0, 1)))
        pending.append((end, 1, Reported(end, worker, job, 1, float(lengths[job]), "stop")))
        pending.append((end, 2, JobEnded(end, worker, job, 1, "stopped")))
    for _, _, event in sorted(pending, key=lambda item: (item[0], item[1])):
        trace.record(event)
    trace.close()
    return trace


def _timed(action):
    started = time.process_time()
    result = action()
    return result, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--browser", action="store_true", help="time the report in chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / JOURNAL
        whole = long_run(args.jobs + 100, args.workers, journal=path)
        lines = path.read_bytes().splitlines(keepends=True)
        tail = 3 * 100
        path.write_bytes(b"".join(lines[:-tail]))
        follower = JournalFollower(path)
        events, first = _timed(follower.poll)
        with open(path, "ab") as handle:
            handle.write(b"".join(lines[-tail:]))
        more, follow = _timed(follower.poll)
        _, idle = _timed(follower.poll)
        trace = follower.trace
        assert trace is not None
        assert len(trace) == len(whole)
        view, build = _timed(lambda: run_view(trace))
        size = len(embed_json(view))
        if args.browser:
            browser_times(Path(directory))
    mib = sum(len(line) for line in lines) / 2**20
    print(f"journal: {args.jobs + 100} jobs on {args.workers} workers, {len(lines) - 1} events, "
          f"{mib:.1f} MiB")  # fmt: skip
    print(f"first read  {first:7.2f} s CPU  ({len(events)} events, {len(events) / first:,.0f}/s)")
    print(f"follow      {follow * 1e3:7.2f} ms CPU ({len(more)} appended events)")
    print(f"idle poll   {idle * 1e3:7.2f} ms CPU")
    print(
        f"view        {build:7.2f} s CPU  ({size / 2**20:.2f} MiB of JSON; journal {mib:.1f} MiB)"
    )


CHARTS = ("gantt", "idle", "best", "curvesTime", "curvesResource")
REDRAW = """(charts) => Object.fromEntries(charts.map((name) => {
    const chart = document.querySelector('.' + name);
    const started = performance.now();
    Plotly.newPlot(chart, chart.data, chart.layout);
    return [name, performance.now() - started];
}))"""


def browser_times(directory: Path) -> None:
    from playwright.sync_api import sync_playwright

    from ashasim.dashboard import write_report
    from tests.dashboard.test_browser import CHROMIUM, FLAGS

    report = write_report([directory / JOURNAL], directory / "report.html")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        page.goto(report.as_uri())
        page.wait_for_selector("table.rungs tr")
        print(f"browser: report of {report.stat().st_size / 2**20:.1f} MiB drawn in "
              f"{time.perf_counter() - started:.1f} s (wall clock)")  # fmt: skip
        for name, ms in page.evaluate(REDRAW, list(CHARTS)).items():
            print(f"  redraw {name:15s} {ms:6.0f} ms")
        zoom = "(r) => Plotly.relayout(document.querySelector('.gantt'), {'xaxis.range': r})"
        started = time.perf_counter()
        page.evaluate(zoom, [0, 100])
        print(f"  zoom the Gantt chart {1e3 * (time.perf_counter() - started):6.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
