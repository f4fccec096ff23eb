"""The command line through its real entry point (``python -m ashasim``)."""

import json
import subprocess
import sys

import pytest

from ashasim.events import load_experiment


def ashasim(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "ashasim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_simulate_writes_the_run_directory_and_prints_a_summary(tmp_path):
    out = tmp_path / "run"
    done = ashasim(
        "simulate",
        "--scheduler",
        "sync-sh",
        "--workload",
        "story",
        "--workers",
        2,
        "--max-t",
        4,
        "--grace-period",
        1,
        "--eta",
        2,
        "--max-trials",
        5,
        "--retrain",
        "--out",
        out,
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    for name in (
        "journal.jsonl",
        "results.csv",
        "summary.json",
        "gantt.png",
        "gantt.svg",
        "curves.png",
        "curves.svg",
    ):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 5
    assert summary["makespan"] == pytest.approx(11.5)
    assert f"idle       {summary['idle_fraction']:.1%}" in done.stdout
    trace = load_experiment(out)
    assert trace.summary() == summary
    assert len((out / "results.csv").read_text().splitlines()) == len(trace.results) + 1


def test_existing_run_is_not_overwritten_without_force(tmp_path):
    args = ["simulate", "--max-time", 60, "--workers", 2, "--out", tmp_path, "--quiet"]
    assert ashasim(*args).returncode == 0
    before = (tmp_path / "journal.jsonl").read_bytes()
    refused = ashasim(*args)
    assert refused.returncode == 2
    assert "already holds a run" in refused.stderr
    assert (tmp_path / "journal.jsonl").read_bytes() == before
    assert ashasim(*args, "--force").returncode == 0


def test_plot_redraws_from_the_journal(tmp_path):
    assert ashasim("simulate", "--max-time", 60, "--out", tmp_path, "--quiet").returncode == 0
    (tmp_path / "gantt.png").unlink()
    done = ashasim("plot", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "gantt.png").stat().st_size > 0


def test_compare_prints_a_table_and_writes_a_figure(tmp_path):
    done = ashasim(
        "compare",
        "--workers",
        2,
        4,
        "--seeds",
        2,
        "--max-time",
        300,
        "--processes",
        1,
        "--out",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "compare.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "setting" not in line]
    assert len(rows) == 2 * 2 * 2  # settings x schedulers x worker counts
    assert all(row.split("|")[6].strip() in ("0/2", "1/2", "2/2") for row in rows)
    assert (tmp_path / "compare.png").exists()
    assert table.strip() in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["simulate", "--eta", "1", "--max-time", "5"],
            "--eta (reduction_factor) must be an integer >= 2",
        ),
        (
            ["simulate", "--grace-period", "10", "--max-time", "5"],
            "--grace-period (grace_period) must be < max_t",
        ),
        (["simulate", "--workers", "0"], "argument --workers: expected an integer >= 1"),
        (["simulate", "--max-time", "-3"], "argument --max-time: expected a finite number > 0"),
        (["simulate", "--scheduler", "bohb"], "argument --scheduler: invalid choice"),
        (["simulate"], "give --max-time or --max-trials"),
        (["simulate", "--workload", "cifar", "--max-time", "5"], "workload must be one of"),
        (["simulate", "--workload", "tabular:/no/such.csv", "--max-time", "5"], "Tabular: no file"),
        (
            ["simulate", "--workload", "story", "--max-t", "10", "--max-time", "5"],
            "--max-t 10 exceeds",
        ),
        (["plot", "/no/such/run"], "no journal at /no/such/run"),
        (["compare", "--seeds", "0"], "argument --seeds: expected an integer >= 1"),
        ([], "usage: ashasim"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(tmp_path, args, message):
    done = ashasim(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_table_that_lacks_what_the_scheduler_asks_for_is_a_usage_error(tmp_path):
    table = tmp_path / "table.csv"
    # config 1 was recorded for 3 epochs, config 0 only for 1: a promotion of config 0 fails
    table.write_text(
        "lr,epoch,seconds,metric\n0.1,1,1.0,0.3\n0.2,1,1.0,0.4\n0.2,2,1.0,0.35\n0.2,3,1.0,0.3\n"
    )
    done = ashasim(
        "simulate",
        "--workload",
        f"tabular:{table}",
        "--max-t",
        3,
        "--max-time",
        50,
        "--out",
        tmp_path / "run",
        "--quiet",
    )
    assert done.returncode == 2
    assert "config 0 has no row for epoch=2 (recorded: [1])" in done.stderr
    assert "Traceback" not in done.stderr
