"""The command line through its real entry point (``python -m ashasim``)."""

import gzip
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
    text = (tmp_path / "compare.md").read_text()
    table, costs = text.split("What synchronisation costs:")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "setting" not in line]
    assert len(rows) == 2 * 2 * 2  # settings x schedulers x worker counts
    assert all(row.split("|")[6].strip() in ("0/2", "1/2", "2/2") for row in rows)
    cost_rows = [
        line for line in costs.splitlines() if line.startswith("| ") and "setting" not in line
    ]
    assert len(cost_rows) == len(rows)
    assert (tmp_path / "compare.png").exists()
    assert text.strip() in done.stdout


def test_compare_takes_overlap_policies_and_a_drop_probability(tmp_path):
    done = ashasim(
        "compare",
        "--schedulers",
        "sync-sh:none",
        "sync-sh:always",
        "asha",
        "--workload",
        "d2l",
        "--workers",
        8,
        "--seeds",
        1,
        "--max-time",
        200,
        "--drop-probability",
        0.05,
        "--processes",
        1,
        "--out",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = {
        line.split("|")[2].strip(): line.split("|")
        for line in (tmp_path / "compare.md").read_text().split("What")[0].splitlines()
        if line.startswith("| d2l")
    }
    assert set(rows) == {"sync-sh:none", "sync-sh:always", "asha"}
    idle = {name: float(row[4].split("%")[0]) for name, row in rows.items()}
    assert idle["sync-sh:none"] > idle["sync-sh:always"]  # opening the next bracket fills workers


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
        (["simulate", "--workers", "0"], "argument --workers: expected an integer in 1..10000"),
        (["simulate", "--max-time", "-3"], "argument --max-time: expected a finite number > 0"),
        (["simulate", "--scheduler", "hyperopt"], "argument --scheduler: invalid choice"),
        (["simulate", "--searcher", "tpe"], "argument --searcher: invalid choice"),
        (
            ["simulate", "--scheduler", "bohb", "--searcher", "gp", "--max-time", "5"],
            "searcher: scheduler 'bohb' comes with the 'kde' searcher",
        ),
        (
            ["simulate", "--searcher", "grid", "--max-time", "5"],
            "config_space parameter 'learning_rate' is a continuous loguniform range",
        ),
        (["simulate"], "give --max-time, --max-trials, --max-results"),
        (["simulate", "--workload", "cifar", "--max-time", "5"], "workload must be one of"),
        (["simulate", "--workload", "tabular:/no/such.csv", "--max-time", "5"], "Tabular: no file"),
        (
            ["simulate", "--workload", "story", "--max-t", "10", "--max-time", "5"],
            "--max-t 10 exceeds",
        ),
        (["simulate", "--fidelity", "size", "--max-time", "5"], "--fidelity describe a table"),
        (
            ["simulate", "--table", "/no/such.csv.gz", "--max-time", "5"],
            "Tabular: no file /no/such.csv.gz",
        ),
        (["simulate", "--missing", "skip"], "argument --missing: invalid choice"),
        (["simulate", "--cost", "refit"], "argument --cost: invalid choice"),
        (["simulate", "--startup-seconds", "-1"], "argument --startup-seconds: expected"),
        (["simulate", "--rung-levels", "2.5", "--max-time", "5"], "--rung-levels must be whole"),
        (["plot", "/no/such/run"], "no journal at /no/such/run"),
        (["compare", "--seeds", "0"], "argument --seeds: expected an integer >= 1"),
        (["compare", "--schedulers", "sync-sh:often"], "--schedulers: scheduler 'sync-sh:often'"),
        (["compare", "--schedulers", "asha:always"], "only sync-sh and sync-hyperband take"),
        (["compare", "--schedulers", "bayes"], "--schedulers: scheduler must be one of"),
        ([], "usage: ashasim"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(tmp_path, args, message):
    done = ashasim(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_simulate_with_a_model_based_searcher_journals_it(tmp_path):
    out = tmp_path / "bohb"
    done = ashasim("simulate", "--scheduler", "bohb", "--max-trials", "40", "--quiet", "--out", out)
    assert done.returncode == 0, done.stderr
    header = load_experiment(out).info["scheduler"]
    assert header["name"] == "SyncHyperband" and header["searcher"]["name"] == "KDESearcher"
    done = ashasim(
        "simulate", "--searcher", "gp", "--max-trials", "20", "--quiet", "--out", tmp_path / "gp"
    )
    assert done.returncode == 0, done.stderr
    assert load_experiment(tmp_path / "gp").info["scheduler"]["searcher"]["name"] == "GPSearcher"


def test_a_table_that_lacks_what_the_scheduler_asks_for_fails_and_leaves_nothing(tmp_path):
    """The run stops with one line naming the config; it leaves no journal, so the same command
    fails the same way again instead of asking for --force."""
    table = tmp_path / "table.csv"
    # config 0 (the best at epoch 1) was recorded for 1 epoch only: its promotion fails
    table.write_text(
        "lr,epoch,seconds,metric\n0.1,1,1.0,0.3\n0.2,1,1.0,0.4\n0.2,2,1.0,0.35\n0.2,3,1.0,0.3\n"
    )
    args = ["simulate", "--workload", f"tabular:{table}", "--max-t", 3, "--eta", 2]
    args += ["--out", tmp_path / "run", "--quiet"]
    for _ in range(2):
        done = ashasim(*args)
        assert done.returncode == 2
        assert "config 0 (lr=0.1) has no row for epoch=2 (recorded: 1..1)" in done.stderr
        assert "Traceback" not in done.stderr and "already holds a run" not in done.stderr
        assert not (tmp_path / "run").exists()


LCDB = "learner,C,train_size,fit_time,error,noise\n" + "".join(
    f"{learner},{c},{size},{0.001 * size * (k + 1):.6f},{0.6 * size**-0.3 + 0.01 * k:.6f},{k}\n"
    for k, (learner, c) in enumerate([(a, b) for a in ("svm", "knn", "tree") for b in (1, 10)])
    for size in (16, 23, 32, 45, 64, 91, 128, 181)
)


def test_simulate_your_own_table_with_its_column_roles(tmp_path):
    table = tmp_path / "lcdb.csv.gz"
    with gzip.open(table, "wt") as handle:
        handle.write(LCDB)
    out = tmp_path / "run"
    done = ashasim(
        "simulate", "--table", table, "--config-columns", "learner", "C",
        "--fidelity", "train_size", "--seconds", "fit_time", "--metric", "error",
        "--cost", "restart", "--missing", "hold", "--rung-levels", 16, 45,
        "--eta", 2, "--workers", 3, "--startup-seconds", 0.5, "--out", out, "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(trial" in done.stdout and "at train_size " in done.stdout
    trace = load_experiment(out)
    assert trace.info["fidelity"]["values"] == [16, 23, 32, 45, 64, 91, 128, 181]
    assert trace.info["config_label"] == ["learner", "C"]
    assert trace.info["workload"]["cost"] == "restart"
    assert trace.info["workload"]["startup_seconds"] == 0.5
    assert trace.info["scheduler"]["rung_levels"] == [1, 4, 8]
    assert len(trace.trial_ids) == 6  # each config once, and the run ended by itself
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["t", "worker", "trial_id", "level", "train_size", "error"]
    assert "noise" not in header and {"learner", "C", "config_id"} <= set(header)
    assert {r.resource for r in trace.results} <= {1, 4, 8}  # restart: rung levels only
    for name in ("gantt.png", "curves.png", "curves_fidelity.png"):
        assert (out / name).stat().st_size > 0


def test_an_absurd_budget_is_refused_before_the_run(tmp_path):
    table = tmp_path / "lcdb.csv"
    table.write_text(LCDB)
    done = ashasim(
        "simulate", "--table", table, "--fidelity", "train_size", "--seconds", "fit_time",
        "--metric", "error", "--config-columns", "learner", "C", "--searcher", "random",
        "--max-time", 20000, "--workers", 64, "--out", tmp_path / "run",
    )  # fmt: skip
    assert done.returncode == 2
    assert "could start about" in done.stderr and "give max_trials" in done.stderr
    assert not (tmp_path / "run").exists()


OBJECTIVE = """
from ashasim import Reporter


def objective(x, max_epochs):
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=x + 1.0 / epoch)
"""


def test_tune_your_own_objective_then_resume(tmp_path):
    """--objective module:function with --space: a real run on the CPU, then --resume on it."""
    (tmp_path / "my_objective.py").write_text(OBJECTIVE)
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 3}')
    out = tmp_path / "run"
    done = ashasim(
        "tune",
        "--objective",
        "my_objective:objective",
        "--space",
        "space.json",
        "--metric",
        "loss",
        "--scheduler",
        "asha",
        "--grace-period",
        1,
        "--workers",
        2,
        "--max-trials",
        6,
        "--devices",
        "cpu",
        "--out",
        out,
        "--quiet",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 6
    assert summary["metric"] == "loss"
    assert (out / "replay.csv").exists()
    again = ashasim("tune", "--resume", out, "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert load_experiment(out).summary()["reports"] == summary["reports"]  # nothing redone


@pytest.mark.slow
def test_tune_the_builtin_workload_on_given_data(tmp_path):
    from tests.lenet_data import write_dataset

    data = write_dataset(tmp_path / "idx", 200, 100)
    done = ashasim(
        "tune",
        "--data",
        data,
        "--max-t",
        3,
        "--workers",
        1,
        "--max-trials",
        2,
        "--devices",
        "cpu",
        "--out",
        tmp_path / "run",
        "--quiet",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    trace = load_experiment(tmp_path / "run")
    assert {r.config["max_epochs"] for r in trace.results} == {3}
    assert all(0.0 <= r.metric <= 1.0 for r in trace.results)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--objective", "nosuchmodule:f", "--space", "space.json"],
            "cannot import 'nosuchmodule'",
        ),
        (["--objective", "json", "--space", "space.json"], "must look like module:function"),
        (["--objective", "json:loads"], "--objective needs --space"),
        (["--space", "space.json"], "--space goes with --objective"),
        (["--max-wallclock", "0"], "argument --max-wallclock: expected a finite number > 0"),
        (["--resume", "nowhere"], "holds no resumable run"),
    ],
)
def test_tune_usage_errors(tmp_path, args, message):
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}}')
    done = ashasim("tune", *args, "--max-trials", 1, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_simulate_stops_on_a_rule_of_the_journal(tmp_path):
    """--max-results ends the run with its N-th result; --stop-below at the first result of the
    metric below the threshold (bounded by --max-time, since it may never come)."""
    from ashasim.events import load_experiment

    done = ashasim("simulate", "--max-results", 30, "--out", tmp_path / "a", "--quiet")
    assert done.returncode == 0, done.stderr
    assert len(load_experiment(tmp_path / "a").results) == 30
    done = ashasim(
        "simulate", "--stop-below", 0.3, "--max-time", 600, "--out", tmp_path / "b", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    results = load_experiment(tmp_path / "b").results
    assert results[-1].metric < 0.3 and all(r.metric >= 0.3 for r in results[:-1])
