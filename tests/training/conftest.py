"""Shared fixtures for the training tests: one torch thread, a small synthetic data set.

Everything runs on the CPU with one torch thread (set per test module and restored afterwards), on
small synthetic IDX files written with ``write_idx`` (see ``tests/lenet_data.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.training.fashion_data import DEBIAN_DIR, load_fashion_mnist  # noqa: E402
from ashasim.training.trial import set_threads  # noqa: E402
from tests.lenet_data import write_dataset  # noqa: E402

#: The Debian package's directory, captured before any test monkeypatches the module constant.
REAL_DIR = DEBIAN_DIR

needs_real_data = pytest.mark.skipif(
    not REAL_DIR.is_dir(),
    reason=f"{REAL_DIR} is missing: the Debian package dataset-fashion-mnist is not installed "
    "(apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    set_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def data(synthetic_dir):
    return load_fashion_mnist(synthetic_dir)
