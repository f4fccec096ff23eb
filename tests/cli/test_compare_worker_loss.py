"""``ashasim compare --worker-mtbf``: what node loss costs each scheduler, through the same
retry policy as a real cluster."""

from __future__ import annotations

from tests.cli.test_cli import ashasim


def test_compare_takes_a_node_loss_model(tmp_path):
    done = ashasim(
        "compare",
        "--schedulers",
        "sync-sh:none",
        "asha",
        "--workload",
        "d2l",
        "--workers",
        8,
        "--seeds",
        1,
        "--max-time",
        200,
        "--worker-mtbf",
        40,
        "--worker-downtime",
        5,
        "--max-retries",
        2,
        "--processes",
        1,
        "--out",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in (tmp_path / "compare.md").read_text().splitlines() if "| d2l" in line]
    assert {row.split("|")[2].strip() for row in rows} == {"sync-sh:none", "asha"}


def test_retries_without_a_loss_model_are_a_usage_error():
    done = ashasim("compare", "--max-retries", 2, "--workload", "d2l")
    assert done.returncode == 2
    assert "--worker-downtime and --max-retries go with --worker-mtbf" in done.stderr
