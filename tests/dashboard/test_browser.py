"""The page in a real headless browser (playwright driving the distribution's chromium).

A dashboard follows a sync-SH run and an ASHA run while their journals are still being written:
the page must load without console errors, draw one lane per worker, and grow as lines arrive;
the static report of the finished runs must show the same content. Set ASHASIM_SCREENSHOT to a
path to keep the screenshot (README's is taken this way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ashasim.dashboard import RunSet, find_runs, make_server, write_report
from ashasim.events import JOURNAL
from tests.dashboard.conftest import journal_lines

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUNS = ("sync-sh", "asha")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("ASHASIM_REQUIRE_BROWSER"):  # CI installs it: a skip would hide a gap
            pytest.fail(f"no chromium at {CHROMIUM}, and ASHASIM_REQUIRE_BROWSER is set")
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/browser.sh installs it)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def _open(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def _shown(page: Any) -> dict[str, dict[str, Any]]:
    """What each run's panel shows: lanes drawn, bars drawn, summary and tables as text."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('section.run')].map((run) => {
            const gantt = run.querySelector('.gantt');
            const bars = gantt.data.find((trace) => trace.type === 'bar');
            return [run.dataset.run, {
                lanes: [...gantt.querySelectorAll('.ytick text')].map((t) => t.textContent),
                bars: bars.base.length,
                events: Number(run.dataset.events),
                summary: run.querySelector('.summary').textContent,
                rungs: run.querySelector('table.rungs').textContent,
                failures: run.querySelector('.failures').textContent,
            }];
        }))"""
    )


def _wait_for_events(page: Any, expected: dict[str, int]) -> None:
    page.wait_for_function(
        """(expected) => Object.entries(expected).every(([name, count]) => {
            const run = document.querySelector(`section.run[data-run="${name}"]`);
            return run && Number(run.dataset.events) === count &&
                run.querySelectorAll('.gantt .ytick').length > 0;
        })""",
        arg=expected,
        timeout=20_000,
    )


@pytest.fixture
def growing_runs(finished_runs, tmp_path: Path) -> dict[str, Any]:
    """The two runs' journals cut at a third, the last line torn half-way."""
    lines = {name: journal_lines(finished_runs[name]) for name in RUNS}
    for name in RUNS:
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        cut = len(lines[name]) // 3
        (run / JOURNAL).write_bytes(b"".join(lines[name][:cut]) + lines[name][cut][:25])
    return {"root": tmp_path / "runs", "lines": lines}


def _append(root: Path, lines: dict[str, list[bytes]], until: float) -> dict[str, int]:
    """Write each journal up to the share *until* of its lines; the events then in it."""
    expected = {}
    for name in RUNS:
        path = root / name / JOURNAL
        have = path.read_bytes()
        full = b"".join(lines[name][: round(until * len(lines[name]))])
        assert full.startswith(have)  # the torn line goes on where it stopped
        with open(path, "ab") as handle:
            handle.write(full[len(have) :])
        expected[name] = round(until * len(lines[name])) - 1
    return expected


def test_live_page_follows_growing_runs_and_the_report_matches(browser, growing_runs, tmp_path):
    root, lines = growing_runs["root"], growing_runs["lines"]
    server = make_server(RunSet(find_runs([root])), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page, errors = _open(browser, server.url)
        first = {name: len(lines[name]) // 3 - 1 for name in RUNS}
        _wait_for_events(page, first)
        shown = _shown(page)
        assert sorted(shown) == sorted(RUNS)
        for name in RUNS:  # one lane per worker
            assert shown[name]["lanes"] == ["Worker-0", "Worker-1", "Worker-2"]
        bars_before = {name: shown[name]["bars"] for name in RUNS}

        halfway = _append(root, lines, 2 / 3)
        _wait_for_events(page, halfway)
        final = _append(root, lines, 1.0)
        _wait_for_events(page, final)
        live = _shown(page)
        for name in RUNS:
            assert live[name]["bars"] > bars_before[name], "new jobs became new bars"
        screenshot = os.environ.get("ASHASIM_SCREENSHOT") or str(tmp_path / "dashboard.png")
        page.screenshot(path=screenshot)
        assert errors == []
        page.close()
    finally:
        server.shutdown()
        server.server_close()

    report = write_report([root], tmp_path / "report.html")
    static, static_errors = _open(browser, report.as_uri())
    _wait_for_events(static, final)
    assert _shown(static) == live
    assert static_errors == []
    static.close()


SLOW_OBJECTIVE = """
import time

from ashasim import Reporter


def objective(x, max_epochs):
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        time.sleep(0.25)
        report(epoch=epoch, loss=x + 1.0 / epoch)
"""


@pytest.mark.slow
def test_a_running_tune_is_watched_from_before_its_journal_exists(browser, tmp_path: Path):
    """A real ``ashasim tune`` (local worker processes): the page waits for the journal, then
    grows with it, and ends showing every event of the finished run."""
    (tmp_path / "slow_objective.py").write_text(SLOW_OBJECTIVE)
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 9}')
    out = tmp_path / "run"
    out.mkdir()
    server = make_server(RunSet(find_runs([out])), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page, errors = _open(browser, server.url)
    page.wait_for_selector("section.run .notice")  # waiting for the journal
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(tmp_path)])}
    command = [sys.executable, "-m", "ashasim", "tune", "--objective", "slow_objective:objective",
               "--space", "space.json", "--metric", "loss", "--scheduler", "asha",
               "--workers", "2", "--max-trials", "12", "--devices", "cpu", "--out", str(out),
               "--quiet"]  # fmt: skip
    tune = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    try:
        while tune.poll() is None:
            events = page.evaluate("() => document.querySelector('section.run').dataset.events")
            if events:
                seen.add(int(events))
            page.wait_for_timeout(300)
        assert tune.returncode == 0, tune.stderr.read() if tune.stderr else ""
        final = len(journal_lines(out)) - 1
        _wait_for_events(page, {"run": final})
        seen.add(final)
        assert len(seen) >= 2, f"the page never showed the run part-way: {sorted(seen)}"
        assert _shown(page)["run"]["lanes"] == ["Worker-0", "Worker-1"]
        assert errors == []
    finally:
        if tune.poll() is None:
            tune.kill()
        page.close()
        server.shutdown()
        server.server_close()
