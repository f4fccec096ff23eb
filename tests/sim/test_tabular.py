"""``Tabular``: tables as users have them, validated before the run, replayed faithfully."""

import csv
import gzip
import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import ASHA, make_scheduler
from ashasim.events import JobStarted, Reported
from ashasim.sim import CostModelError, Tabular, simulate
from ashasim.space import choice, randint

# -- a small table of epochs, complete --------------------------------------------------------------

ROWS = [
    {"lr": 0.1, "opt": "sgd", "epoch": 1, "seconds": 2.0, "metric": 0.5},
    {"lr": 0.1, "opt": "sgd", "epoch": 2, "seconds": 2.5, "metric": 0.4},
    {"lr": 0.01, "opt": "adam", "epoch": 1, "seconds": 1.0, "metric": 0.8},
    {"lr": 0.1, "opt": "sgd", "epoch": 3, "seconds": 3.0, "metric": 0.3},
    {"lr": 0.01, "opt": "sgd", "epoch": 1, "seconds": 1.5, "metric": 0.7},
    {"lr": 0.01, "opt": "adam", "epoch": 2, "seconds": 1.25, "metric": 0.75},
]
CONFIGS = [{"lr": 0.1, "opt": "sgd"}, {"lr": 0.01, "opt": "adam"}, {"lr": 0.01, "opt": "sgd"}]


def write_csv(path, rows, fieldnames=None):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def check_table(table):
    assert table.configs == CONFIGS
    assert table.config_space == {"config_id": randint(0, 2)}
    assert table.max_epochs == 3
    for row in ROWS:
        config_id = CONFIGS.index({"lr": row["lr"], "opt": row["opt"]})
        assert table.epoch(99, {"config_id": config_id}, row["epoch"]) == (
            row["seconds"],
            row["metric"],
        )


def test_every_format_gives_the_same_table(tmp_path):
    """Rows, CSV, gzipped CSV, JSON, JSON lines (plain and gzipped) and a DataFrame: distinct
    configs become 0..n-1 in order of first appearance, lookups return the recorded values."""
    check_table(Tabular(ROWS))
    check_table(Tabular(write_csv(tmp_path / "table.csv", ROWS)))
    check_table(Tabular(write_csv(tmp_path / "table.csv.gz", ROWS)))
    (tmp_path / "table.json").write_text(json.dumps(ROWS), encoding="utf-8")
    check_table(Tabular(str(tmp_path / "table.json")))
    lines = "".join(json.dumps(row) + "\n" for row in ROWS)
    (tmp_path / "table.jsonl").write_text(lines + "\n", encoding="utf-8")  # a blank line is fine
    check_table(Tabular(tmp_path / "table.jsonl"))
    with gzip.open(tmp_path / "table.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(lines)
    check_table(Tabular(tmp_path / "table.jsonl.gz"))
    upper = tmp_path / "TABLE.CSV"
    upper.write_bytes((tmp_path / "table.csv").read_bytes())
    check_table(Tabular(upper))
    pd = pytest.importorskip("pandas")
    check_table(Tabular(pd.DataFrame(ROWS)))


def test_parquet_needs_pandas_and_pyarrow(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "table.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path.write_bytes(b"PAR1")
        with pytest.raises(ImportError, match="needs pyarrow"):
            Tabular(path)
        return
    pd.DataFrame(ROWS).to_parquet(path)
    check_table(Tabular(path))


def test_csv_cells_are_parsed_as_numbers_where_they_are(tmp_path):
    rows = [{"opt": "sgd", "layers": 2, "lr": 0.001, "epoch": 1, "seconds": 1, "metric": 0.5}]
    table = Tabular(write_csv(tmp_path / "t.csv", rows))
    assert table.configs == [{"opt": "sgd", "layers": 2, "lr": 0.001}]
    assert [type(v) for v in table.configs[0].values()] == [str, int, float]
    seconds, metric = table.epoch(0, {"config_id": 0}, 1)
    assert (seconds, metric) == (1.0, 0.5) and type(seconds) is float


# -- column roles ---------------------------------------------------------------------------------


def test_column_roles_by_their_new_and_older_names(tmp_path):
    rows = [
        {"lr": 0.1, "step": 1, "secs": 4.0, "acc": 0.9},
        {"lr": 0.2, "step": 1, "secs": 3.0, "acc": 0.8},
    ]
    path = write_csv(tmp_path / "t.csv", rows)
    older = Tabular(path, metric="acc", resource_attr="step", time_attr="secs")
    newer = Tabular(path, metric="acc", fidelity="step", seconds="secs")
    for table in (older, newer):
        assert table.configs == [{"lr": 0.1}, {"lr": 0.2}]
        assert table.epoch(0, {"config_id": 1}, 1) == (3.0, 0.8)
        with pytest.raises(CostModelError, match=r"config 1 \(lr=0.2\) has no row for step=2"):
            table.epoch(0, {"config_id": 1}, 2)
    described = older.describe()
    assert described["configs"] == 2 and described["source"] == str(path)
    assert json.loads(json.dumps(described)) == described
    with pytest.raises(ValueError, match="give fidelity= or its older form resource_attr="):
        Tabular(path, fidelity="step", resource_attr="step")
    with pytest.raises(ValueError, match="give seconds= or its older form time_attr="):
        Tabular(path, seconds="secs", time_attr="secs")


def test_other_columns_are_information_not_hyperparameters():
    """With config_columns, a column that varies per row (a noisy repeat, a timestamp) does not
    turn every row into a config; columns constant within a config stay readable per config."""
    rows = [
        {
            "learner": learner,
            "C": c,
            "size": s,
            "fit": 0.1 * s,
            "err": 1 / s,
            "run_at": f"{learner}{c}{s}",
            "family": "kernel" if learner == "svm" else "lazy",
        }
        for learner in ("svm", "knn")
        for c in (1, 10)
        for s in (16, 32)
    ]
    # inferred, every other column is a hyperparameter: each row its own config, most of them
    # without the first level
    with pytest.raises(ValueError, match=r"run_at='svm132', family='kernel'\) has no rows for"):
        Tabular(rows, fidelity="size", seconds="fit", metric="err")
    table = Tabular(
        rows, fidelity="size", seconds="fit", metric="err", config_columns=["learner", "C"]
    )
    assert table.configs == [
        {"learner": "svm", "C": 1},
        {"learner": "svm", "C": 10},
        {"learner": "knn", "C": 1},
        {"learner": "knn", "C": 10},
    ]
    assert table.info_columns == ["run_at", "family"]
    assert table.info(2) == {"family": "lazy"}  # run_at varies within the config: not kept
    assert table.config_label == ("learner", "C")
    labelled = Tabular(
        rows,
        fidelity="size",
        seconds="fit",
        metric="err",
        config_columns=["learner", "C"],
        label="family",
    )
    assert labelled.config_label == ("family",)
    assert labelled.named_configs[2] == {"config_id": 2, "learner": "knn", "C": 1, "family": "lazy"}


def test_a_label_column_must_name_one_config_once():
    rows = [
        {"learner": "svm", "size": s, "fit": 1.0, "err": 0.5, "name": f"svm-{s}"} for s in (1, 2)
    ]
    with pytest.raises(ValueError, match=r"config 0 \(learner='svm'\) has two values of 'name'"):
        Tabular(
            rows,
            fidelity="size",
            seconds="fit",
            metric="err",
            label="name",
            config_columns=["learner"],
        )


def test_a_users_config_id_is_kept():
    """The user's ids identify the configs: lookups, the space and the named configs use them,
    never a renumbering."""
    rows = [
        {"config_id": cid, "lr": lr, "epoch": e, "seconds": 1.0 + e, "metric": lr / e}
        for cid, lr in ((17, 0.1), (4, 0.2), (230, 0.1))
        for e in (1, 2)
    ]
    table = Tabular(rows)
    assert table.config_ids == [17, 4, 230]
    assert table.config_space == {"config_id": choice([17, 4, 230])}
    assert table.epoch(0, {"config_id": 4}, 2) == (3.0, 0.1)
    assert table.named_configs == [
        {"config_id": 17, "lr": 0.1},
        {"config_id": 4, "lr": 0.2},
        {"config_id": 230, "lr": 0.1},
    ]
    with pytest.raises(CostModelError, match=r"config_id=1; the table has config_id values 17, 4"):
        table.epoch(0, {"config_id": 1}, 1)
    rows[1]["lr"] = 0.3  # config 17 with two learning rates
    with pytest.raises(ValueError, match=r"config 17 \(lr=0.1\) has two values of 'lr'"):
        Tabular(rows)


def test_the_users_config_id_reaches_the_trace_with_the_named_values():
    rows = [
        {"config_id": f"model-{k}", "depth": k, "epoch": e, "seconds": 1.0, "metric": 1 / (k + e)}
        for k in (3, 1, 2)
        for e in (1, 2, 3)
    ]
    table = Tabular(rows, config_columns=["depth"])
    scheduler = ASHA(
        table.config_space,
        type="promotion",
        max_t=3,
        reduction_factor=2,
        searcher=table.searcher(),
    )
    trace = simulate(scheduler, table, 2)
    configs = {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}
    assert sorted(c["config_id"] for c in configs.values()) == ["model-1", "model-2", "model-3"]
    for config in configs.values():
        assert config["config_id"] == f"model-{config['depth']}"
    for row in trace.results:
        assert row.metric == 1 / (row.config["depth"] + row.resource)
    assert trace.info["config_label"] == ["depth"]


# -- fidelities that are not epochs ----------------------------------------------------------------

SIZES = [16, 23, 32, 45, 64, 91, 128]


def lcdb_rows(learners=("svm", "knn", "tree"), sizes=SIZES):
    """A learning-curve database in miniature: learners refit at each training-set size; the fit
    time is the whole fit at that size."""
    return [
        {
            "learner": learner,
            "train_size": size,
            "fit_time": round(0.01 * size * (k + 1), 6),
            "error": round(0.6 * size**-0.3 + 0.05 * k, 6),
        }
        for k, learner in enumerate(learners)
        for size in sizes
    ]


def lcdb(**options):
    return Tabular(
        lcdb_rows(),
        config_columns=["learner"],
        fidelity="train_size",
        seconds="fit_time",
        metric="error",
        **options,
    )


def test_fidelity_values_become_levels():
    table = lcdb()
    assert table.max_epochs == len(SIZES)
    assert table.fidelity_name == "train_size" and table.fidelity_values == tuple(SIZES)
    assert table.levels_of([16, 64, 128]) == [1, 5, 7]
    assert table.epoch(0, {"config_id": 1}, 3) == (0.64, round(0.6 * 32**-0.3 + 0.05, 6))
    with pytest.raises(
        ValueError, match=r"train_size 100 is not one of the table's levels \(16, 23"
    ):
        table.levels_of([100])
    fractions = Tabular(
        [{"m": "a", "frac": f, "s": 1.0, "metric": 1 - f} for f in (0.1, 0.25, 0.5, 1.0)],
        fidelity="frac",
        seconds="s",
    )
    assert fractions.fidelity_values == (0.1, 0.25, 0.5, 1.0)
    epochs = Tabular(ROWS, fidelity="epoch")  # 1..L: level k is epoch k, nothing to map
    assert epochs.fidelity_values is None and epochs.max_epochs == 3


@pytest.mark.parametrize("cost", ["resume", "restart"])
def test_real_fidelities_end_to_end(cost):
    """Rungs at chosen table levels; the header, results and summary carry the training-set
    sizes; each job lasts exactly what the table says (sum of increments under resume, the fit
    at its level alone under restart)."""
    table = lcdb(cost=cost)
    scheduler = ASHA(
        table.config_space,
        type="promotion",
        max_t=table.max_epochs,
        rung_levels=table.levels_of([16, 45]),
        reduction_factor=2,
        searcher=table.searcher(),
        metric="error",
    )
    assert scheduler.rung_levels == (1, 4, 7)
    trace = simulate(scheduler, table, 2)
    assert trace.info["fidelity"] == {"name": "train_size", "values": SIZES}
    lookup = {(r["learner"], r["train_size"]): r for r in lcdb_rows()}
    rows = list(trace.result_rows())
    assert rows and all(set(row) >= {"level", "train_size", "error", "learner"} for row in rows)
    for row in rows:
        assert row["train_size"] == SIZES[row["level"] - 1]
        assert row["error"] == lookup[(row["learner"], row["train_size"])]["error"]
    configs = {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}
    for segment in trace.segments:
        learner = configs[segment.trial_id]["learner"]
        if cost == "resume":
            levels = range(segment.resume_from + 1, segment.resource + 1)
        else:
            levels = [segment.resource]  # promotion ASHA decides only at the milestone
        expected = sum(lookup[(learner, SIZES[level - 1])]["fit_time"] for level in levels)
        assert segment.end - segment.start == pytest.approx(expected, abs=1e-12)
    reported = [e.resource for e in trace.events if type(e) is Reported]
    if cost == "restart":
        assert set(reported) <= {1, 4, 7}  # levels between rungs are never trained
    else:
        assert set(reported) == set(range(1, max(reported) + 1))  # every level on the way
    summary = trace.summary()
    assert summary["fidelity"] == "train_size"
    assert summary["best_fidelity"] == SIZES[summary["best_resource"] - 1]


# -- validation, before the run, naming what is wrong ---------------------------------------------


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (
            [{"lr": 0.1, "epoch": 1, "metric": 0.5}],
            {},
            r"<rows> has no column\(s\) \['seconds'\]; columns are the config's plus "
            r"\['epoch', 'metric', 'seconds'\]",
        ),
        (
            [ROWS[0], {"lr": 0.1, "opt": "sgd", "epoch": 2, "seconds": 1.0}],
            {},
            r"row 2 of <rows> \(config 0 \(lr=0.1, opt='sgd'\)\): metric is empty",
        ),
        (
            [ROWS[0], {**ROWS[1], "metric": "abc"}],
            {},
            r"row 2 of <rows> \(config 0 \(lr=0.1, opt='sgd'\)\): metric = 'abc' is not a number",
        ),
        (
            [{**ROWS[0], "opt": None}],
            {},
            r"row 1 of <rows>: empty cell in column 'opt'",
        ),
        ([{**ROWS[0], "epoch": math.inf}], {}, r"row 1 of <rows> .*: epoch = inf is not finite"),
        ([{**ROWS[0], "epoch": 0}], {}, r"need an integer epoch >= 1, got 0"),
        ([{**ROWS[0], "epoch": 2.5}], {}, r"need an integer epoch >= 1, got 2.5"),
        ([{**ROWS[0], "seconds": -1.0}], {}, r"seconds must be finite and >= 0"),
        ([{**ROWS[0], "seconds": math.nan}], {}, r"seconds = nan is not finite"),
        ([{**ROWS[0], "seconds": math.inf}], {}, r"seconds = inf is not finite"),
        ([{**ROWS[0], "seconds": True}], {}, r"seconds = True is not a number"),
        ([ROWS[0], ROWS[0]], {}, r"row 2 of <rows> \(config 0 .*\): repeats epoch=1 of the config"),
        (
            [ROWS[0], {**ROWS[1], "lr": 1}, {**ROWS[1], "lr": 1.0, "epoch": 1}],
            {},
            r"column 'lr' of <rows> mixes 1 \(row 2\) and 1.0 \(row 3\)",
        ),
        (
            [ROWS[0], {**ROWS[0], "epoch": 3}],
            {},
            r"config 0 \(lr=0.1, opt='sgd'\) has a gap: no rows for epoch 2 \(recorded up to 3\)",
        ),
        (
            [ROWS[0], {**ROWS[0], "lr": 0.2, "epoch": 2}],
            {"missing": "hold"},
            r"config 1 \(lr=0.2, opt='sgd'\) has no rows for epoch 1: its curve must start",
        ),
        (ROWS, {"missing": "skip"}, r"missing must be one of 'error', 'hold'; got 'skip'"),
        (ROWS, {"cost": "refit"}, r"cost must be one of 'resume', 'restart'; got 'refit'"),
        (ROWS, {"config_columns": ["lr", "batch"]}, r"has no column\(s\) \['batch'\]"),
        (ROWS, {"config_columns": ["lr", "epoch"]}, r"config_columns \['epoch'\] also have"),
        (ROWS, {"config_columns": "lr"}, r"config_columns must be a list of column names"),
        ([], {}, r"<rows> has no rows"),
    ],
)
def test_bad_tables_are_refused_before_the_run(rows, options, message):
    with pytest.raises(ValueError, match=message):
        Tabular(rows, **options)


def test_named_values_in_csv_errors(tmp_path):
    """From a file: the row number, the column, and the config's named values."""
    rows = lcdb_rows()
    rows[9]["error"] = ""
    with pytest.raises(
        ValueError,
        match=r"row 10 of .*t.csv \(config 1 \(learner='knn'\)\): error is empty",
    ):
        Tabular(
            write_csv(tmp_path / "t.csv", rows),
            config_columns=["learner"],
            fidelity="train_size",
            seconds="fit_time",
            metric="error",
        )
    rows = lcdb_rows()
    rows[3]["learner"] = ""
    with pytest.raises(ValueError, match=r"row 4 of .*u.csv: empty cell in column 'learner'"):
        Tabular(
            write_csv(tmp_path / "u.csv", rows),
            config_columns=["learner"],
            fidelity="train_size",
            seconds="fit_time",
            metric="error",
        )
    (tmp_path / "mixed.csv").write_text(
        "C,epoch,seconds,metric\n1,1,1,0.5\n1.0,1,1,0.4\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"column 'C' of .*mixed.csv mixes 1 \(row 1\) and 1.0"):
        Tabular(tmp_path / "mixed.csv")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"no file {tmp_path / 'none.csv'}")):
        Tabular(tmp_path / "none.csv")
    (tmp_path / "table.txt").write_text("epoch,seconds,metric\n1,1,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"table.txt must be one of .csv, .csv.gz, .json"):
        Tabular(tmp_path / "table.txt")
    for name, text in (("obj.json", '{"epoch": 1}'), ("mixed.json", "[1, 2]")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="must hold a JSON list of objects"):
            Tabular(tmp_path / name)
    (tmp_path / "bad.jsonl").write_text('{"epoch": 1}\n[1]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2 of .*bad.jsonl is not a JSON object"):
        Tabular(tmp_path / "bad.jsonl")
    empty = write_csv(tmp_path / "empty.csv", [], fieldnames=["lr", "epoch", "seconds", "metric"])
    with pytest.raises(ValueError, match="empty.csv has no rows"):
        Tabular(empty)
    (tmp_path / "ragged.csv").write_text("epoch,seconds,metric\n1,1.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 1 of .*ragged.csv has fewer cells \(2\)"):
        Tabular(tmp_path / "ragged.csv")
    (tmp_path / "twice.csv").write_text("epoch,epoch,seconds,metric\n1,1,1,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"repeats column\(s\) \['epoch'\]"):
        Tabular(tmp_path / "twice.csv")
    with pytest.raises(ValueError, match="source must be a path"):
        Tabular(42)


def test_missing_levels_error_or_hold():
    """A gap in the middle: an error up front, or (hold) the level below it. Beyond the end of a
    curve: an error when the scheduler asks, naming the config, or (hold) its last level."""
    gappy = [ROWS[0], {**ROWS[0], "epoch": 3, "seconds": 9.0, "metric": 0.1}, *ROWS[2:3]]
    with pytest.raises(ValueError, match="has a gap"):
        Tabular(gappy)
    hold = Tabular(gappy, missing="hold")
    assert hold.epoch(0, {"config_id": 0}, 2) == (2.0, 0.5)
    assert hold.epoch(0, {"config_id": 0}, 3) == (9.0, 0.1)
    assert hold.epoch(0, {"config_id": 1}, 3) == (1.0, 0.8)  # beyond its end
    strict = Tabular(ROWS)
    with pytest.raises(
        CostModelError,
        match=r"config 2 \(lr=0.01, opt='sgd'\) has no row for epoch=2 \(recorded: 1..1\)",
    ):
        strict.epoch(0, {"config_id": 2}, 2)
    assert hold.describe()["missing"] == "hold"


@pytest.mark.parametrize("config", [{"config_id": 3}, {"config_id": -1}, {}, {"config_id": "0"}])
def test_configs_outside_the_table(config):
    with pytest.raises(CostModelError, match=r"config_id=.*the table has configs 0..2"):
        Tabular(ROWS).epoch(5, config, 1)


def test_nan_and_inf_metrics_are_replayed_as_recorded():
    """A diverged run's NaN or inf is a result (the scheduler ranks it last), not a missing row:
    the table keeps both, with their seconds, at their own levels."""
    table = Tabular([{**ROWS[0], "metric": math.nan}, {**ROWS[1], "metric": math.inf}])
    seconds, metric = table.epoch(0, {"config_id": 0}, 1)
    assert seconds == ROWS[0]["seconds"] and math.isnan(metric)
    assert table.epoch(0, {"config_id": 0}, 2) == (ROWS[1]["seconds"], math.inf)
    assert table.max_epochs == 2


def test_the_scheduler_must_fit_the_table_before_the_run():
    table = Tabular(ROWS)
    scheduler = ASHA(table.config_space, type="promotion", max_t=4, reduction_factor=2)
    with pytest.raises(CostModelError, match=r"max_t=4 .* exceeds what the workload Tabular has"):
        simulate(scheduler, table, 2, max_trials=3)


# -- without replacement ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n_configs=st.integers(1, 25),
    name=st.sampled_from(["asha", "asha-stopping", "sync-sh", "sync-hyperband", "random"]),
    n_workers=st.integers(1, 6),
    seed=st.integers(0, 50),
)
def test_the_tables_searcher_never_repeats_a_config_and_ends_cleanly(
    n_configs, name, n_workers, seed
):
    rows = [
        {"config_id": 100 + c, "epoch": e, "seconds": 1.0 + (c * e) % 3, "metric": (c % 7) / e}
        for c in range(n_configs)
        for e in range(1, 5)
    ]
    table = Tabular(rows)
    scheduler = make_scheduler(
        name,
        table.config_space,
        max_t=4,
        reduction_factor=2,
        seed=seed,
        searcher=table.searcher(),
    )
    assert scheduler.max_trials == n_configs  # the table bounds the run: no max_time needed
    trace = simulate(scheduler, table, n_workers, seed=seed)
    drawn = {e.trial_id: e.config["config_id"] for e in trace.events if type(e) is JobStarted}
    assert sorted(drawn.values()) == [100 + c for c in range(n_configs)]
    assert scheduler.done


def test_legacy_tables_keep_random_draws():
    """Without the table's searcher, configs are drawn with replacement, as before."""
    table = Tabular(lcdb_rows(), fidelity="train_size", seconds="fit_time", metric="error")
    scheduler = ASHA(table.config_space, type="promotion", max_t=7, reduction_factor=2, seed=1)
    trace = simulate(scheduler, table, 2, max_trials=12)
    assert len(trace.trial_ids) == 12
    assert {e.config["config_id"] for e in trace.events if type(e) is JobStarted} <= {0, 1, 2}


def test_a_larger_csv_with_information_columns(tmp_path):
    """20,000 rows, 1,000 configs of 20 levels, a per-row column that is information only (the
    loading time of 10^6 rows is measured by experiments/bench_tabular.py, not here)."""
    rows = 20_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("learner,C,train_size,fit_time,error,noise\n")
        for i in range(rows):
            config, level = divmod(i, 20)
            handle.write(
                f"l{config % 7},{config},{2 ** (level + 4)},0.01,{0.5 / (level + 1)},{i}\n"
            )
    table = Tabular(
        path,
        config_columns=["learner", "C"],
        fidelity="train_size",
        seconds="fit_time",
        metric="error",
    )
    assert len(table.configs) == rows // 20 and table.max_epochs == 20
    assert table.info_columns == ["noise"]


# -- model-based searchers over the table's columns ------------------------------------------------


def _grid_rows(n_lr=8, opts=("sgd", "adam", "rmsprop"), widths=(8, 32, 256, 1024)):
    """lr x opt x width configs, 3 epochs each; the final error is best at lr = 0.01, adam,
    width 256 and grows smoothly away from it (so the columns, not the ids, carry the signal)."""
    rows = []
    for i in range(n_lr):
        lr = 10 ** (-4 + 3 * i / (n_lr - 1))
        for opt in opts:
            for width in widths:
                final = (math.log10(lr) + 2) ** 2 / 4 + 0.3 * (opt != "adam")
                final += (math.log2(width) - 8) ** 2 / 20
                for epoch in (1, 2, 3):
                    rows.append(
                        {
                            "lr": lr,
                            "opt": opt,
                            "width": width,
                            "epoch": epoch,
                            "seconds": 1.0,
                            "metric": final + 1.0 / epoch,
                        }
                    )
    return rows


@pytest.mark.parametrize("name", ["kde", "gp"])
def test_model_searchers_over_a_table_model_its_columns_and_never_repeat_a_config(name):
    table = Tabular(_grid_rows())
    searcher = table.searcher(name)
    scheduler = make_scheduler(
        "asha", table.config_space, max_t=3, reduction_factor=3, seed=0, searcher=searcher
    )
    kinds = {p.name: (p.kind, p.log) for p in searcher.encoding.params}  # from the columns
    assert kinds == {"lr": (0, True), "opt": (2, False), "width": (1, True)}  # REAL, CAT, INT
    assert scheduler.max_trials == 96
    trace = simulate(scheduler, table, 4, seed=0)
    drawn = [e.config for e in trace.events if type(e) is JobStarted and e.config]
    ids = {e.trial_id: e.config["config_id"] for e in trace.events if type(e) is JobStarted}
    assert sorted(ids.values()) == list(range(96))  # every config once, no other
    assert all(set(c) == {"config_id", "lr", "opt", "width"} for c in drawn)


def _rank_of_best_config(searcher_name, seed):
    """How many trials a sequential 1-worker ASHA run starts before the table's best config."""
    table = Tabular(_grid_rows())
    searcher = table.searcher() if searcher_name == "grid" else table.searcher(searcher_name)
    scheduler = make_scheduler(
        "asha", table.config_space, max_t=3, reduction_factor=3, seed=seed, searcher=searcher
    )
    trace = simulate(scheduler, table, 1, seed=seed)
    order = [e.config for e in trace.events if type(e) is JobStarted and e.config]
    first = {}
    for config in order:
        first.setdefault(config["config_id"], len(first))
    best = min(range(96), key=lambda c: table._curves[c][3][1])
    return first[best]


@pytest.mark.parametrize("name", ["kde", "gp"])
def test_model_searchers_over_a_table_find_its_best_config_sooner_than_random_order(name):
    """Over 96 configs, 8 seeds: the model reaches the best config after fewer trials than the
    table's random order (the median position; random order's expectation is ~48)."""
    model = [_rank_of_best_config(name, seed) for seed in range(8)]
    random_order = [_rank_of_best_config("grid", seed) for seed in range(8)]
    assert sorted(model)[4] < sorted(random_order)[4], (model, random_order)


def test_the_tables_searcher_names_what_it_accepts():
    with pytest.raises(ValueError, match="name must be 'grid', 'kde' or 'gp'"):
        Tabular(ROWS).searcher("random")
