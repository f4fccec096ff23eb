"""The "Coming from Ray Tune" guide's example runs as written (worker processes) and prints what a
Ray Tune user expects; tests/test_docs.py runs the page, this checks what it printed."""

import pytest

from tests.docs_blocks import DOCS, run_page

GUIDE = DOCS / "guides" / "coming-from-ray-tune.md"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_ray_tune_example_runs(tmp_path_factory):
    ran = run_page(GUIDE, tmp_path_factory)
    out = ran.output_of("from ashasim import tune")
    assert "Number of trials: 10/10 (10 TERMINATED)" in out
    best_line, idle_line = out.strip().splitlines()[-2:]
    assert str(ran.directory / "runs" / "ray-style" / "train_") in best_line
    assert idle_line.startswith("idle ") and idle_line.endswith("%")
    assert (ran.directory / "runs" / "ray-style" / "journal.jsonl").exists()
