"""notebooks/asha.ipynb: executed top to bottom (ASHASIM_FAST=1), and committed without outputs."""

import os
import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from ashasim.training import fashion_data

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "asha.ipynb"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def write_synthetic_fashion_mnist(directory, n_train=2000, n_test=500, seed=0):
    """Four IDX files with FashionMNIST's names: each class is a bright block at its own place."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for index, label in enumerate(labels):
            row, col = divmod(int(label), 5)
            images[index, 4 + 10 * row : 12 + 10 * row, 2 + 5 * col : 6 + 5 * col] = 220
        fashion_data.write_idx(directory / f"{split}-images-idx3-ubyte", images)
        fashion_data.write_idx(directory / f"{split}-labels-idx1-ubyte", labels)
    return directory


def real_data_available():
    try:
        fashion_data.find_data(download=False)
    except FileNotFoundError:
        return False
    return True


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a FAST run in a fresh directory; (notebook, seconds it took)."""
    workdir = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as monkeypatch:
        # the kernel is a subprocess: it inherits this environment
        monkeypatch.setenv("ASHASIM_FAST", "1")
        if not real_data_available():
            data = write_synthetic_fashion_mnist(workdir / "fashion-mnist")
            monkeypatch.setenv("ASHASIM_DATA", str(data))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )
        start = time.monotonic()
        client.execute()
        seconds = time.monotonic() - start
    print(f"notebook ran in {seconds:.0f} s")
    return notebook, workdir, seconds


def tagged(notebook, tag):
    cells = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    assert cells, f"no cell is tagged {tag!r}"
    return cells


def outputs(cells, output_type=None):
    return [o for c in cells for o in c.outputs if output_type in (None, o.output_type)]


def images(cells):
    return [o for o in outputs(cells) if "image/png" in o.get("data", {})]


def text(cells):
    parts = []
    for o in outputs(cells):
        if o.output_type == "stream":
            parts.append(o.text)
        elif "text/plain" in o.get("data", {}):
            parts.append(o.data["text/plain"])
    return "".join(parts)


def test_every_cell_ran_without_error(executed):
    notebook, _, seconds = executed
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    assert not outputs(code_cells, "error")
    assert "FAST = True" in text(tagged(notebook, "setup"))
    assert seconds < 600


def test_the_gantt_charts_and_idle_fractions(executed):
    notebook, _, _ = executed
    assert len(images(tagged(notebook, "story"))) >= 2
    printed = text(tagged(notebook, "idle"))
    sync = re.search(r"synchronous SH: idle fraction ([0-9.]+)", printed)
    asha = re.search(r"ASHA: idle fraction ([0-9.]+)", printed)
    assert sync and asha, printed
    assert float(sync.group(1)) > float(asha.group(1))
    assert float(sync.group(1)) > 0.1


def test_the_promotion_rule_example(executed):
    notebook, _, _ = executed
    printed = text(tagged(notebook, "rule"))
    assert "rung levels: (1, 2, 4)" in printed
    promotions = re.findall(r"PROMOTE trial (\d+): epochs 1 -> 2", printed)
    assert promotions == ["0", "3"], printed
    assert "start trial 2" in printed


def test_the_sync_vs_async_table_and_figure(executed):
    notebook, _, _ = executed
    cells = tagged(notebook, "compare")
    tables = [
        o.data["text/markdown"] for o in outputs(cells) if "text/markdown" in o.get("data", {})
    ]
    assert len(tables) == 1
    for policy in ("sync-sh:none", "sync-sh:top-rung", "sync-sh:always", "asha"):
        assert f"| {policy} |" in tables[0]
    assert len(images(cells)) >= 1


def test_the_real_run_loaded_back(executed):
    notebook, workdir, _ = executed
    cells = tagged(notebook, "results")
    found = re.search(r"(\d+) reports from (\d+) trials", text(cells))
    assert found, text(cells)
    assert int(found.group(1)) >= 1
    assert int(found.group(2)) >= 1
    assert any("text/html" in o.get("data", {}) for o in outputs(cells, "execute_result"))
    assert len(images(cells)) >= 2  # e.plot() and the chapter's learning curves
    runs = list((workdir / "runs").iterdir())  # the run directory landed under the cwd
    assert len(runs) == 1
    assert (runs[0] / "journal.jsonl").exists()
    status = text(tagged(notebook, "real"))
    assert "tune" in status  # print_update_interval's status lines


def test_the_learning_curves(executed):
    notebook, _, _ = executed
    cells = tagged(notebook, "curves")
    assert len(images(cells)) >= 3
    printed = text(cells)
    assert "asha-stopping:" in printed
    assert "random:" in printed


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == []
        assert cell.execution_count is None


def test_the_synthetic_data_is_readable(tmp_path):
    directory = write_synthetic_fashion_mnist(tmp_path)
    data = fashion_data.load_fashion_mnist(directory)
    assert (data.n_train, data.n_test) == (2000, 500)
    assert os.fspath(fashion_data.find_data(directory)) == os.fspath(directory.resolve())
