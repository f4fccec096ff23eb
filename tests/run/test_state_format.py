"""Saved trial states: plain data round-trips without torch, nothing is unpickled without consent."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.run import checkpoint, state_format
from ashasim.run.state_format import UnsafeCheckpointError

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8)
)
keys = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.tuples(st.integers())
plain = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)


def same(a: object, b: object) -> bool:
    """Equal, and of the same container types all the way down (a tuple is not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return a == b


@given(plain)
def test_plain_state_round_trips_exactly(state: object) -> None:
    data = state_format.dumps(state)
    assert data[:2] == b"PK"
    assert same(state_format.loads(data), state)


def test_numpy_arrays_and_scalars_keep_dtype_and_values() -> None:
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.int64(7)}
    back = state_format.loads(state_format.dumps(state))
    assert back["w"].dtype == np.float32
    np.testing.assert_array_equal(back["w"], state["w"])
    assert back["step"] == 7
    assert isinstance(back["step"], np.int64)


def test_nan_and_infinity_survive() -> None:
    back = state_format.loads(state_format.dumps([float("nan"), float("inf")]))
    assert np.isnan(back[0])
    assert back[1] == float("inf")


class Marker:
    """Unpickling this writes a file: the crafted checkpoint of the threat model."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "ran"))


def test_a_crafted_pickle_runs_nothing_without_consent(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    crafted = tmp_path / "resource_1.pt"
    crafted.write_bytes(pickle.dumps(Marker(str(marker))))
    with pytest.raises(UnsafeCheckpointError, match=r"resource_1\.pt is a pickle.*trust"):
        checkpoint.read(crafted)
    assert not marker.exists()
    checkpoint.read(crafted, allow_pickle=True)
    assert marker.read_text() == "ran"


def test_a_crafted_torch_file_runs_nothing_without_consent(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    marker = tmp_path / "marker"
    crafted = tmp_path / "resource_2.pt"
    torch.save({"model": Marker(str(marker))}, crafted)
    with pytest.raises(UnsafeCheckpointError, match=r"safe loader refuses"):
        checkpoint.read(crafted)
    assert not marker.exists()


def test_tensors_go_through_torch_and_load_safely() -> None:
    torch = pytest.importorskip("torch")
    state = {"model": torch.nn.Linear(2, 1).state_dict(), "epoch": 3}
    back = state_format.loads(state_format.dumps(state))
    assert back["epoch"] == 3
    assert torch.equal(back["model"]["weight"], state["model"]["weight"])


def test_saving_plain_state_never_imports_torch(tmp_path: Path) -> None:
    """A worker whose objective never uses torch must not pay torch's import on its first save."""
    script = textwrap.dedent(
        f"""
        import sys
        from ashasim.run import state_format
        data = state_format.dumps({{"epoch": 3, "weights": [0.5, 1.5]}})
        assert state_format.loads(data) == {{"epoch": 3, "weights": [0.5, 1.5]}}
        open({str(tmp_path / "out")!r}, "w").write(str("torch" in sys.modules))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    assert (tmp_path / "out").read_text() == "False"
