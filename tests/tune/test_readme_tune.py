"""README's "Coming from Ray Tune" example runs as written (worker processes)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_ray_tune_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (example,) = [block for block in blocks if "from ashasim import tune" in block]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    assert "Number of trials: 10/10 (10 TERMINATED)" in out
    best_line, idle_line = out.strip().splitlines()[-2:]
    assert str(tmp_path / "runs" / "ray-style" / "train_") in best_line
    assert idle_line.startswith("idle ") and idle_line.endswith("%")
    assert (tmp_path / "runs" / "ray-style" / "journal.jsonl").exists()
