"""FashionMNIST's files and the data set as device tensors.

Where the four IDX files come from (:func:`find_data`: an explicit path, ``$ASHASIM_DATA``, the
Debian package, an earlier download, torchvision's downloader), a strict IDX reader and writer
(:func:`read_idx`, :func:`write_idx`), and :func:`load_fashion_mnist`, which decodes the files
once per process and moves the whole data set to the device as tensors, so that a trial batches
by indexing instead of running a ``DataLoader``.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

ENV_VAR = "ASHASIM_DATA"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ashasim"

#: The four IDX files, each accepted raw or gzipped (``name.gz``).
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
#: FashionMNIST's label names, in label order.
CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


# --------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------


def _file_in(directory: Path, name: str) -> Path | None:
    """``directory/name`` or ``directory/name.gz``, whichever exists (raw first), else None."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _first_missing(directory: Path) -> str | None:
    """The first of :data:`FILES` that ``directory`` lacks (None: it has all four)."""
    if not directory.is_dir():
        return "the directory itself"
    for name in FILES:
        if _file_in(directory, name) is None:
            return name
    return None


def _checked(directory: Path, source: str) -> Path:
    """``directory`` (resolved) if it holds all four files; else FileNotFoundError, no fallback."""
    directory = directory.expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"FashionMNIST directory {directory} (from {source}) does not exist"
        )
    missing = _first_missing(directory)
    if missing is not None:
        raise FileNotFoundError(
            f"FashionMNIST directory {directory} (from {source}) has no {missing} "
            f"(nor {missing}.gz); it needs all of {', '.join(FILES)}"
        )
    return directory.resolve()


def _download(root: Path) -> Path:
    """Let torchvision fetch FashionMNIST into ``root``; return its folder of IDX files."""
    import torchvision  # optional and slow to import: only needed here

    torchvision.datasets.FashionMNIST(root=str(root), train=True, download=True)
    return root / "FashionMNIST" / "raw"


def find_data(path: str | os.PathLike[str] | None = None, *, download: bool = True) -> Path:
    """The directory holding FashionMNIST's four IDX files (``.gz`` or raw).

    Tried in order: ``path``; the environment variable ``ASHASIM_DATA``; the Debian package's
    ``/usr/share/datasets/fashion-mnist``; a copy torchvision downloaded earlier into
    ``CACHE_DIR``; and, if ``download``, torchvision's downloader (network). An explicit ``path``
    or ``ASHASIM_DATA`` that lacks a file is an error naming that file: it is never skipped.

    Raises:
        FileNotFoundError: no source worked; the message lists the three ways to get the data.
    """
    if path is not None:
        return _checked(Path(path), "the path argument")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _checked(Path(from_env), f"${ENV_VAR}")
    tried = [f"${ENV_VAR} (unset)"]
    for directory in (DEBIAN_DIR, CACHE_DIR / "FashionMNIST" / "raw"):
        missing = _first_missing(directory)
        if missing is None:
            return directory.resolve()
        tried.append(f"{directory} ({'no ' + missing if directory.is_dir() else 'missing'})")

    cause: BaseException | None = None
    if download:
        try:
            downloaded = _download(CACHE_DIR)
            if _first_missing(downloaded) is None:
                return downloaded.resolve()
            tried.append(f"torchvision's download into {CACHE_DIR} (incomplete)")
        except Exception as exc:  # no torchvision, no network, a server error, ...
            cause = exc
            reason = " ".join(str(exc).split())  # torchvision's messages span lines
            tried.append(f"torchvision's download ({type(exc).__name__}: {reason})")
    else:
        tried.append("torchvision's download (not allowed: download=False)")
    raise FileNotFoundError(
        "FashionMNIST not found. Tried: " + "; ".join(tried) + ".\nGet it one of three ways:\n"
        f"  1. pass a path (load_fashion_mnist(path) / find_data(path)) or set {ENV_VAR} to a"
        f" directory holding {', '.join(FILES)} (each raw or .gz);\n"
        f"  2. install the Debian package: apt-get install {DEBIAN_PACKAGE}"
        f" (it puts the files in {DEBIAN_DIR});\n"
        f"  3. allow torchvision to download it (needs the network; download=True), into"
        f" {CACHE_DIR}."
    ) from cause


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (type code 0x08), gzipped or raw, into a uint8 array.

    Strict: the magic must be ``00 00 08 ndim`` with ndim >= 1, the big-endian dimensions must
    be complete, and the payload must have exactly prod(dims) bytes.

    Raises:
        ValueError: bad gzip stream, bad magic, unsupported type code, or wrong size.
    """
    path = Path(path)
    blob = path.read_bytes()
    if blob[:2] == _GZIP_MAGIC:
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt gzip stream ({exc})") from exc
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file (first bytes {blob[:4].hex(' ') or 'none'};"
            " expected 00 00 <type> <ndim>)"
        )
    type_code, ndim = blob[2], blob[3]
    if type_code != _IDX_UBYTE:
        raise ValueError(
            f"{path}: IDX type code 0x{type_code:02x} is not supported (only 0x08, unsigned byte)"
        )
    if ndim == 0:
        raise ValueError(f"{path}: IDX file with 0 dimensions")
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions need {header} bytes)")
    dims = struct.unpack(f">{ndim}I", blob[4:header])
    expected = math.prod(dims)
    if len(blob) - header != expected:
        raise ValueError(
            f"{path}: IDX dimensions {dims} need {expected} data bytes, the file has "
            f"{len(blob) - header}"
        )
    return np.frombuffer(blob, dtype=np.uint8, offset=header).reshape(dims).copy()


def write_idx(path: str | os.PathLike[str], array: Any) -> Path:
    """Write ``array`` (values 0..255) as an IDX ubyte file, gzipped if the name ends in ``.gz``.

    Returns the path. The gzip header carries no timestamp, so equal arrays give equal files.
    """
    path = Path(path)
    values = np.asarray(array)
    if values.dtype != np.uint8:
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"write_idx needs integers 0..255, got dtype {values.dtype}")
        if values.size and (values.min() < 0 or values.max() > 255):
            raise ValueError("write_idx needs integers 0..255 (IDX type 0x08, unsigned byte)")
        values = values.astype(np.uint8)
    if not 1 <= values.ndim <= 255:
        raise ValueError(f"IDX files have 1 to 255 dimensions, got {values.ndim}")
    header = bytes((0, 0, _IDX_UBYTE, values.ndim)) + struct.pack(f">{values.ndim}I", *values.shape)
    blob = header + np.ascontiguousarray(values).tobytes()
    if path.name.endswith(".gz"):
        blob = gzip.compress(blob, mtime=0)
    path.write_bytes(blob)
    return path


# --------------------------------------------------------------------------------------------
# The data set as device tensors
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def load_arrays(directory: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decoded ``(train_images, train_labels, test_images, test_labels)`` of a directory.

    Cached per process on the directory string (pass a resolved one, as :func:`find_data`
    returns); the arrays are read-only because they are shared. ``load_arrays.cache_clear()``
    forgets them.
    """
    arrays = tuple(
        read_idx(_file_in(Path(directory), name) or Path(directory) / name) for name in FILES
    )
    train_x, train_y, test_x, test_y = arrays
    for images, labels, split in ((train_x, train_y, "train"), (test_x, test_y, "test")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{directory}: {split} images {images.shape} and labels {labels.shape} do not"
                " match (want N x H x W and N)"
            )
        if labels.size and labels.max() >= len(CLASSES):
            raise ValueError(f"{directory}: {split} label {labels.max()} is not one of 0..9")
    for array in arrays:
        array.setflags(write=False)
    return arrays  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class FashionData:
    """FashionMNIST as tensors on one device.

    ``train_x``/``test_x``: float32, N x 1 x 28 x 28, in [0, 1] (``ToTensor`` scaling, no
    normalization, as in d2l); ``train_y``/``test_y``: int64 labels. The test split is the
    chapter's validation set.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int = 10

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    @property
    def n_train(self) -> int:
        return self.train_x.shape[0]

    @property
    def n_test(self) -> int:
        return self.test_x.shape[0]


def _images(array: np.ndarray, device: torch.device) -> torch.Tensor:
    # Move the bytes (4x smaller than float32), then scale on the device exactly as ToTensor does.
    as_bytes = torch.from_numpy(np.array(array, dtype=np.uint8, copy=True)).to(device)
    return as_bytes.to(torch.float32).div_(255).unsqueeze_(1)


def _labels(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.int64)).to(device)


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    device: str | torch.device = "cpu",
    subset: int | None = None,
    seed: int = 0,
    download: bool = True,
) -> FashionData:
    """FashionMNIST on ``device`` (see :func:`find_data` for where the files come from).

    ``subset=N`` keeps N train images and min(N, 10,000) test images, each drawn at random
    without replacement with ``seed`` (in their original order); N larger than a split keeps
    all of it. The files are decoded once per process (:func:`load_arrays`).
    """
    directory = find_data(path, download=download)
    train_x, train_y, test_x, test_y = load_arrays(str(directory))
    if subset is not None:
        if subset < 1:
            raise ValueError(f"subset must be a positive number of images, got {subset}")
        rng = np.random.default_rng(seed)
        train_keep = np.sort(rng.choice(len(train_x), min(subset, len(train_x)), replace=False))
        test_keep = np.sort(rng.choice(len(test_x), min(subset, len(test_x)), replace=False))
        train_x, train_y = train_x[train_keep], train_y[train_keep]
        test_x, test_y = test_x[test_keep], test_y[test_keep]
    device = torch.device(device)
    return FashionData(
        train_x=_images(train_x, device),
        train_y=_labels(train_y, device),
        test_x=_images(test_x, device),
        test_y=_labels(test_y, device),
    )
