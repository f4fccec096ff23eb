"""experiments/gpu_check.py on the CPU: its arguments, its plan, and a tiny end-to-end run (the
GPU session runs it for real; a mistake found there costs the session's GPU time)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from experiments import gpu_check


def test_defaults_time_every_step_on_a_gpu_and_the_eager_ones_on_cpu():
    args = gpu_check.parse_args([])
    assert args.device == "cuda"
    assert args.steps == ["old", "eager", "graph", "compile"]
    assert args.workers == [1, 2, 4, 8]
    assert (args.minutes, args.max_total_minutes, args.batch_size) == (12.0, 8.5, 108)
    cpu = gpu_check.parse_args(["--device", "cpu", "--workers", "2", "1", "2"])
    assert cpu.steps == ["old", "eager"]
    assert cpu.workers == [1, 2]  # sorted, once each


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--workers", "0"], "--workers"),
        (["--window", "0"], "--window"),
        (["--minutes", "-1"], "--minutes"),
        (["--batch-size", "0"], "--batch-size"),
        (["--subset", "0"], "--subset"),
        (["--max-total-minutes", "-2"], "--max-total-minutes"),
        (["--device", "cpu", "--steps", "graph"], "--steps"),
        (["--steps", "fast"], "--steps"),
    ],
)
def test_bad_arguments_name_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        gpu_check.parse_args(argv)
    assert exit_.value.code == 2
    assert flag in capsys.readouterr().err


def test_the_plan_fits_the_total_budget():
    """With the default 12 minutes asked, the tuner gets what is left of 8.5 minutes."""
    text = gpu_check.plan(gpu_check.parse_args([]))
    assert "16 windows of 6 s at batch 108" in text
    throughput = float(text.split("(~")[1].split(" min")[0])
    tune = float(text.split("step auto, best workers, ~")[1].split(" min")[0])
    assert throughput + tune + gpu_check.RESERVE_S / 60 == pytest.approx(8.5, abs=0.1)
    unlimited = gpu_check.plan(gpu_check.parse_args(["--max-total-minutes", "0"]))
    assert "~12.0 min (asked 12" in unlimited


def test_dry_run_prints_the_plan_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    assert gpu_check.main(["--dry-run", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "throughput: steps old eager graph compile x workers 1 2 4 8" in printed
    assert not out.exists()


def test_best_packing():
    rows = [
        {"step": "graph", "workers": 1, "epochs_per_s": 9.0},
        {"step": "graph", "workers": 2, "epochs_per_s": 12.5},
        {"step": "graph", "workers": 4, "epochs_per_s": 12.0},
        {"step": "old", "workers": 8, "epochs_per_s": 30.0},
    ]
    assert gpu_check.best_packing(rows, "graph", fallback=3) == 2
    assert gpu_check.best_packing(rows, "compile", fallback=3) == 3
    table = gpu_check.format_throughput(rows)
    assert "| graph | 9.00 | 12.50 | 12.00 | - |" in table
    assert "| old | - | - | - | 30.00 |" in table


def test_the_profile_phase_writes_its_table(tmp_path, synthetic_dir):
    args = gpu_check.parse_args(["--device", "cpu", "--data", str(synthetic_dir)])
    args.out = tmp_path
    table = gpu_check.profile(args, graph=False, steps=2, batch_sizes=(32, 64))
    assert (tmp_path / "profile.md").read_text() == table + "\n"
    rows = [line for line in table.splitlines() if line.startswith(("| old", "| eager"))]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| old", "32"], ["| eager", "32"], ["| old", "64"], ["| eager", "64"]
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_tiny_cpu_run_end_to_end(tmp_path, capsys):
    """Real processes, real (subset) data, the real Tuner: every file the GPU run writes."""
    # 30 s for the tuner: on a busy 2-core machine its worker took more than 6 s to start
    argv = ["--device", "cpu", "--minutes", "0.5", "--subset", "500", "--workers", "1", "2",
            "--window", "0.5", "--tune-workers", "1", "--out", str(tmp_path)]  # fmt: skip
    assert gpu_check.main(argv) == 0
    rows = json.loads((tmp_path / "throughput.json").read_text())
    assert [(r["step"], r["workers"]) for r in rows] == [
        ("old", 1), ("old", 2), ("eager", 1), ("eager", 2)
    ]  # fmt: skip
    assert all(r["epochs_per_s"] > 0 and r["epochs"] >= r["workers"] for r in rows)
    assert all(r["loss_vs_old"] == 0 for r in rows)  # on CPU the new step is bit-exact
    tuned = json.loads((tmp_path / "tune.json").read_text())
    assert tuned["step"] == "eager"
    assert tuned["workers"] == 1
    assert tuned["trials_started"] >= 1
    assert tuned["epochs_trained"] >= 1
    assert 0 <= tuned["idle_fraction"] < 1
    assert tuned["failed_jobs"] == 0
    run = tmp_path / tuned["directory"].rsplit("/", 1)[1]
    assert (run / "journal.jsonl").exists()
    assert (run / "gantt.png").exists()
    assert not (run / "checkpoints").exists()
    report = (tmp_path / "report.md").read_text()
    assert "| epochs/s | 1 workers | 2 workers |" in report
    assert "tune: {" in report
