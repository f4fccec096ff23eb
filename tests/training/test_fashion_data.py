"""FashionMNIST's files: IDX read/write, data discovery, loading to the device.

Two tests read the real files of the Debian package ``dataset-fashion-mnist`` and are skipped,
saying so, where it is not installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")
fd = pytest.importorskip("ashasim.training.fashion_data")

from tests.lenet_data import write_dataset  # noqa: E402
from tests.training.conftest import REAL_DIR, needs_real_data  # noqa: E402

NAMES = fd.FILES


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $ASHASIM_DATA, no Debian dir, an empty cache, and a downloader that must not run."""
    monkeypatch.delenv(fd.ENV_VAR, raising=False)
    monkeypatch.setattr(fd, "DEBIAN_DIR", tmp_path / "no-debian-package")
    monkeypatch.setattr(fd, "CACHE_DIR", tmp_path / "cache")

    def no_download(root):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(fd, "_download", no_download)
    return monkeypatch


# ---------------------------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plain-idx", "zipped.gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (4, 28, 28), (2, 1, 3, 2)])
def test_idx_round_trip(tmp_path, name, shape):
    array = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    path = fd.write_idx(tmp_path / name, array)
    is_gzip = path.read_bytes()[:2] == b"\x1f\x8b"
    assert is_gzip == name.endswith(".gz")
    back = fd.read_idx(path)
    assert back.dtype == np.uint8
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    back[...] = 0  # a private, writable copy


def test_idx_header_is_the_standard_one(tmp_path):
    path = fd.write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.int64))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])
    gz = fd.write_idx(tmp_path / "labels.gz", np.array([1, 2, 3]))
    assert gz.read_bytes() == fd.write_idx(tmp_path / "again.gz", np.array([1, 2, 3])).read_bytes()


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "not an IDX file"),
        (bytes([0, 0, 8]), "not an IDX file"),
        (b"", "not an IDX file"),
        (bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]), r"type code 0x0d"),
        (bytes([0, 0, 8, 0]), "0 dimensions"),
        (bytes([0, 0, 8, 2, 0, 0, 0, 2]), "truncated IDX header"),
        (bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]), r"need 4 data bytes.*has 3"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), r"need 2 data bytes.*has 3"),
        (b"\x1f\x8bnot really gzip", "corrupt gzip"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, blob, match):
    path = tmp_path / "bad"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=match):
        fd.read_idx(path)


def test_read_idx_rejects_truncated_gzip(tmp_path):
    good = fd.write_idx(tmp_path / "x.gz", np.zeros((10, 10), dtype=np.uint8)).read_bytes()
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="corrupt gzip"):
        fd.read_idx(tmp_path / "cut.gz")


@pytest.mark.parametrize("bad", [np.array([0, 256]), np.array([-1, 3]), np.array([0.5])])
def test_write_idx_rejects_non_bytes(tmp_path, bad):
    with pytest.raises(ValueError, match="0..255"):
        fd.write_idx(tmp_path / "x", bad)


# ---------------------------------------------------------------------------------------------
# find_data
# ---------------------------------------------------------------------------------------------


def test_find_data_order(isolated, tmp_path):
    explicit = write_dataset(tmp_path / "explicit", 20, 10)
    from_env = write_dataset(tmp_path / "env", 20, 10)
    debian = write_dataset(tmp_path / "debian", 20, 10)
    isolated.setattr(fd, "DEBIAN_DIR", debian)
    isolated.setenv(fd.ENV_VAR, str(from_env))

    assert fd.find_data(explicit) == explicit.resolve()
    assert fd.find_data(str(explicit)) == explicit.resolve()
    assert fd.find_data() == from_env.resolve()
    isolated.delenv(fd.ENV_VAR)
    assert fd.find_data() == debian.resolve()
    isolated.setenv(fd.ENV_VAR, "")  # empty counts as unset
    assert fd.find_data() == debian.resolve()


def test_explicit_path_lacking_a_file_is_an_error_not_a_fallback(isolated, tmp_path):
    good = write_dataset(tmp_path / "good", 20, 10)
    isolated.setattr(fd, "DEBIAN_DIR", good)
    isolated.setenv(fd.ENV_VAR, str(good))
    partial = write_dataset(tmp_path / "partial", 20, 10)
    (partial / NAMES[3]).unlink()

    with pytest.raises(FileNotFoundError, match=r"path argument.*has no t10k-labels-idx1-ubyte"):
        fd.find_data(partial)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fd.find_data(tmp_path / "nowhere")
    isolated.setenv(fd.ENV_VAR, str(partial))
    with pytest.raises(FileNotFoundError, match=r"ASHASIM_DATA.*has no t10k-labels-idx1-ubyte"):
        fd.find_data()


def test_incomplete_debian_dir_falls_through(isolated, tmp_path):
    debian = write_dataset(tmp_path / "debian", 20, 10)
    (debian / f"{NAMES[0]}.gz").unlink()
    isolated.setattr(fd, "DEBIAN_DIR", debian)
    with pytest.raises(FileNotFoundError, match=f"no {NAMES[0]}"):
        fd.find_data(download=False)


def test_nothing_found_names_all_three_ways(isolated):
    with pytest.raises(FileNotFoundError) as caught:
        fd.find_data(download=False)
    message = str(caught.value)
    assert "ASHASIM_DATA" in message
    assert "pass a path" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "torchvision" in message
    assert "network" in message
    assert "download=False" in message


def test_failed_download_is_reported_with_the_three_ways(isolated):
    def offline(root):
        raise OSError("network is unreachable")

    isolated.setattr(fd, "_download", offline)
    with pytest.raises(FileNotFoundError, match="network is unreachable") as caught:
        fd.find_data()
    assert isinstance(caught.value.__cause__, OSError)
    assert "apt-get install dataset-fashion-mnist" in str(caught.value)
    assert "ASHASIM_DATA" in str(caught.value)


def test_download_is_the_last_resort_and_is_reused(isolated, tmp_path):
    calls = []

    def fake_download(root):
        calls.append(root)
        return write_dataset(Path(root) / "FashionMNIST" / "raw", 20, 10)

    isolated.setattr(fd, "_download", fake_download)
    found = fd.find_data()
    assert calls == [tmp_path / "cache"]
    assert found == (tmp_path / "cache" / "FashionMNIST" / "raw").resolve()
    assert fd.find_data() == found  # the earlier download is found without downloading again
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def test_load_scales_like_to_tensor(data, synthetic_dir):
    raw_x = fd.read_idx(synthetic_dir / f"{NAMES[0]}.gz")
    raw_y = fd.read_idx(synthetic_dir / f"{NAMES[1]}.gz")
    assert data.train_x.shape == (600, 1, 28, 28)
    assert data.test_x.shape == (200, 1, 28, 28)
    assert data.train_x.dtype == torch.float32
    assert data.train_y.dtype == torch.int64
    assert (data.n_train, data.n_test, data.num_classes) == (600, 200, 10)
    assert data.device == torch.device("cpu")
    expected = torch.from_numpy(raw_x).to(torch.float32).div(255).unsqueeze(1)
    assert torch.equal(data.train_x, expected)
    assert torch.equal(data.train_y, torch.from_numpy(raw_y.astype(np.int64)))
    assert float(data.train_x.min()) >= 0.0
    assert float(data.train_x.max()) <= 1.0


def test_subset_is_seeded(synthetic_dir):
    a = fd.load_fashion_mnist(synthetic_dir, subset=100, seed=3)
    b = fd.load_fashion_mnist(synthetic_dir, subset=100, seed=3)
    c = fd.load_fashion_mnist(synthetic_dir, subset=100, seed=4)
    assert (a.n_train, a.n_test) == (100, 100)
    assert torch.equal(a.train_x, b.train_x)
    assert torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, c.train_x)
    whole = fd.load_fashion_mnist(synthetic_dir, subset=10_000)  # more than there is: all of it
    assert (whole.n_train, whole.n_test) == (600, 200)
    # the kept images are real rows of the split, each paired with its own label
    full = fd.load_fashion_mnist(synthetic_dir)
    rows = {full.train_x[i].numpy().tobytes(): int(full.train_y[i]) for i in range(600)}
    for image, label in zip(a.train_x, a.train_y):
        assert rows[image.numpy().tobytes()] == int(label)
    with pytest.raises(ValueError, match="subset"):
        fd.load_fashion_mnist(synthetic_dir, subset=0)


def test_files_are_decoded_once_per_process(monkeypatch, tmp_path):
    directory = write_dataset(tmp_path / "once", 30, 10)
    reads = []
    real_read = fd.read_idx

    def counting_read(path):
        reads.append(Path(path).name)
        return real_read(path)

    monkeypatch.setattr(fd, "read_idx", counting_read)
    first = fd.load_fashion_mnist(directory)
    second = fd.load_fashion_mnist(directory, subset=5)
    assert len(reads) == 4
    assert first.n_train == 30
    assert second.n_train == 5
    cached = fd.load_arrays(str(directory.resolve()))
    assert not cached[0].flags.writeable
    first.train_x.zero_()  # tensors are copies: the cache is untouched
    assert fd.load_fashion_mnist(directory).train_x.sum() > 0


def test_labels_out_of_range_are_rejected(tmp_path):
    directory = write_dataset(tmp_path / "bad-labels", 20, 10)
    fd.write_idx(directory / NAMES[3], np.full(10, 10))
    with pytest.raises(ValueError, match="test label 10 is not one of 0..9"):
        fd.load_fashion_mnist(directory)


def test_import_ashasim_does_not_import_torch():
    code = (
        "import sys, ashasim, ashasim.training; "
        "assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# ---------------------------------------------------------------------------------------------
# The real files (Debian package dataset-fashion-mnist; CI installs it)
# ---------------------------------------------------------------------------------------------


@needs_real_data
def test_real_files_are_fashion_mnist():
    train_x, train_y, test_x, test_y = fd.load_arrays(str(fd.find_data(REAL_DIR)))
    assert train_x.shape == (60_000, 28, 28)
    assert test_x.shape == (10_000, 28, 28)
    assert np.bincount(train_y).tolist() == [6_000] * 10
    assert np.bincount(test_y).tolist() == [1_000] * 10
    assert train_y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test_y[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert train_x.mean() / 255 == pytest.approx(0.2860, abs=1e-4)  # the usual normalization mean
