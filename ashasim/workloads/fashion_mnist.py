"""LeNet on FashionMNIST: the training half of the Dive into Deep Learning HPO chapter.

The chapter's objective trains ``d2l.LeNet(lr=learning_rate)`` with plain SGD on FashionMNIST
(images scaled to [0, 1] by ``ToTensor``, no normalization) at batch size ``batch_size`` for up to
``max_epochs`` epochs, and reports the validation error (1 - accuracy on the 10,000 test images)
after each epoch. This module provides the same pieces without d2l, built for an executor that
runs many short trials in long-lived worker processes:

- data discovery (:func:`find_data`) and a strict IDX reader/writer (:func:`read_idx`,
  :func:`write_idx`); decoded files are cached per process;
- :func:`load_fashion_mnist`: the whole data set as tensors moved to the device once;
- :func:`lenet`: LeNet-5 as in d2l, with explicit shapes and generator-seeded Xavier init;
- :func:`train_epoch` / :func:`validation_error`: batching by indexing device-resident tensors
  with a seeded permutation (no ``DataLoader``);
- :func:`make_trial`, :class:`TrialState`, :func:`trial_state`, :func:`restore_trial`: a seeded
  trial that can be checkpointed when paused and resumed bit-identically (on CPU).

Typical use by an executor::

    data = load_fashion_mnist(device="cuda")        # once per worker process
    trial = make_trial(config, data=data, seed=trial_seed)
    for epoch in range(trial.epoch + 1, milestone + 1):
        trial.train_epoch()
        error = trial.validation_error()            # report (epoch, error)
    checkpoint = trial.state_dict()                 # plain CPU tensors; torch.save-able
    ...
    trial = restore_trial(checkpoint, data=data)    # continues exactly where it stopped
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

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
#: Batch size used by :func:`make_trial` when the config has none (d2l.FashionMNIST's default).
DEFAULT_BATCH_SIZE = 64

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


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def lenet(
    num_classes: int = 10,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> nn.Sequential:
    """LeNet-5 as in d2l (sigmoid activations, average pooling) for 1 x 28 x 28 inputs.

    Weights are Xavier-uniform (d2l's ``init_cnn``); biases use PyTorch's default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)). All draws come from ``generator`` (a CPU generator;
    None: torch's global one) on the CPU before the move to ``device``, so a seed gives the same
    initial weights on every device. Building never touches the global RNG.
    """
    meta = {"device": "meta"}  # shapes only; to_empty() allocates, init_lenet() fills
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2, **meta),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, **meta),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, **meta),
        nn.Sigmoid(),
        nn.Linear(120, 84, **meta),
        nn.Sigmoid(),
        nn.Linear(84, num_classes, **meta),
    ).to_empty(device="cpu")
    init_lenet(model, generator)
    return model if device is None else model.to(device)


def init_lenet(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """(Re)initialize each Conv2d/Linear of ``model``, in module order, from ``generator``."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                if module.bias is not None:
                    bound = 1.0 / math.sqrt(module.weight[0].numel())
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: FashionData,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One epoch of minibatch training; returns the mean cross-entropy over the train images.

    The order is ``torch.randperm`` drawn from ``generator`` (seed it per trial and epoch, e.g.
    with :func:`epoch_generator`); every slice of ``batch_size`` indices (the last one may be
    shorter, as with ``DataLoader(drop_last=False)``) indexes the device-resident tensors
    directly. Only one host synchronization happens, at the end.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = data.n_train
    order = torch.randperm(n, generator=generator, device=generator.device).to(data.device)
    model.train()
    total = torch.zeros((), device=data.device)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        loss = nn.functional.cross_entropy(model(data.train_x[index]), data.train_y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * index.numel()
    return total.item() / n


def validation_error(model: nn.Module, data: FashionData, batch_size: int = 4096) -> float:
    """1 - accuracy on the test split (the chapter's validation error), in large batches."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=data.device)
    with torch.no_grad():
        for start in range(0, data.n_test, batch_size):
            logits = model(data.test_x[start : start + batch_size])
            correct += (logits.argmax(dim=1) == data.test_y[start : start + batch_size]).sum()
    model.train(was_training)
    return 1.0 - correct.item() / data.n_test


# --------------------------------------------------------------------------------------------
# Trials: seeding, checkpoint, resume
# --------------------------------------------------------------------------------------------


def derive_seed(seed: int, *keys: int) -> int:
    """A 64-bit seed for stream ``keys`` of a trial seeded ``seed`` (numpy SeedSequence)."""
    if seed < 0 or any(key < 0 for key in keys):
        raise ValueError(f"seeds must be non-negative integers, got {seed}, {keys}")
    state = np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1, np.uint64)
    return int(state[0])


def init_generator(seed: int) -> torch.Generator:
    """The CPU generator for a trial's initial weights."""
    return torch.Generator().manual_seed(derive_seed(seed, 0))


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The CPU generator for the shuffle of epoch ``epoch`` (1-based) of a trial seeded ``seed``."""
    return torch.Generator().manual_seed(derive_seed(seed, 1, epoch))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so checkpoints load with torch.load(weights_only=True)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    return value


def _cpu_copy(value: Any) -> Any:
    """A deep copy of a (nested) state dict with every tensor detached and cloned to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, Mapping):
        return {key: _cpu_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cpu_copy(item) for item in value)
    return value


def trial_state(
    model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, **extra: Any
) -> dict[str, Any]:
    """A snapshot ``{"epoch", "model", "optimizer", **extra}`` with CPU copies of all tensors.

    It does not change when training goes on, and ``torch.save`` / ``torch.load`` (also with
    ``weights_only=True``) handle it as long as ``extra`` holds plain Python values.
    """
    return {
        "epoch": int(epoch),
        "model": _cpu_copy(model.state_dict()),
        "optimizer": _cpu_copy(optimizer.state_dict()),
        **_plain(extra),
    }


@dataclass(eq=False)
class TrialState:
    """One trial: its LeNet, its SGD optimizer and the number of epochs done so far."""

    config: dict[str, Any]
    seed: int
    data: FashionData = field(repr=False)
    model: nn.Module = field(repr=False)
    optimizer: torch.optim.Optimizer = field(repr=False)
    batch_size: int
    epoch: int = 0

    def train_epoch(self) -> float:
        """Train epoch ``self.epoch + 1`` (shuffled by :func:`epoch_generator`); mean loss."""
        generator = epoch_generator(self.seed, self.epoch + 1)
        loss = train_epoch(self.model, self.optimizer, self.data, self.batch_size, generator)
        self.epoch += 1
        return loss

    def validation_error(self, batch_size: int = 4096) -> float:
        return validation_error(self.model, self.data, batch_size)

    def state_dict(self) -> dict[str, Any]:
        """Everything :func:`restore_trial` needs, as a snapshot (see :func:`trial_state`)."""
        return trial_state(
            self.model, self.optimizer, self.epoch, config=self.config, seed=self.seed
        )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Load weights, optimizer state and epoch from :meth:`state_dict` output."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])


def make_trial(config: Mapping[str, Any], *, data: FashionData, seed: int) -> TrialState:
    """A fresh trial: LeNet seeded from ``seed`` on ``data.device`` and SGD with the config's lr.

    ``config["learning_rate"]`` is required; ``config["batch_size"]`` defaults to
    :data:`DEFAULT_BATCH_SIZE`; other keys (such as ``max_epochs``) are kept but unused. The
    global torch RNG is neither used nor changed, so a trial depends on ``seed`` alone.
    """
    config = _plain(dict(config))
    learning_rate = float(config["learning_rate"])
    batch_size = int(config.get("batch_size", DEFAULT_BATCH_SIZE))
    model = lenet(data.num_classes, generator=init_generator(seed), device=data.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    return TrialState(
        config=config,
        seed=int(seed),
        data=data,
        model=model,
        optimizer=optimizer,
        batch_size=batch_size,
    )


def restore_trial(state: Mapping[str, Any], *, data: FashionData) -> TrialState:
    """The trial that :meth:`TrialState.state_dict` saved, on ``data.device``, ready to go on."""
    missing = [key for key in ("config", "seed", "epoch", "model", "optimizer") if key not in state]
    if missing:
        raise ValueError(f"not a trial checkpoint: missing {', '.join(missing)}")
    trial = make_trial(state["config"], data=data, seed=state["seed"])
    trial.load_state_dict(state)
    return trial


def set_threads(n: int | None) -> None:
    """``torch.set_num_threads(n)`` (None: leave torch's default), e.g. cores // workers."""
    if n is None:
        return
    if n < 1:
        raise ValueError(f"the number of threads must be >= 1, got {n}")
    torch.set_num_threads(int(n))


# -- the chapter's objective, for the executor ---------------------------------------------------


def chapter_space(max_epochs: int = 10) -> dict[str, Any]:
    """The chapter's space: learning_rate loguniform(1e-2, 1), batch_size randint(32, 256)."""
    from ashasim.space import loguniform, randint

    return {
        "learning_rate": loguniform(1e-2, 1.0),
        "batch_size": randint(32, 256),
        "max_epochs": max_epochs,
    }


@functools.lru_cache(maxsize=2)
def _worker_data(path: str | None, device: str, subset: int | None, seed: int) -> FashionData:
    """The data set on this worker's device, loaded once per worker process (workers live long)."""
    return load_fashion_mnist(path, device=device, subset=subset, seed=seed)


def objective(
    learning_rate: float,
    batch_size: int,
    max_epochs: int,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    subset: int | None = None,
    seed: int = 0,
) -> None:
    """The chapter's objective: train LeNet epoch by epoch, report the validation error.

    Runs on the worker's GPU when it has one (the executor sets CUDA_VISIBLE_DEVICES), else on
    the CPU. A promoted trial resumes from its checkpoint (saved before each report), so no epoch
    is trained twice; the trial's seed derives from ``seed`` and its trial id.
    """
    from ashasim.run import Reporter, checkpoint, current_job

    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = _worker_data(None if data_dir is None else str(data_dir), device, subset, seed)
    job = current_job()
    state = checkpoint.load()
    if state is not None:
        trial = restore_trial(state, data=data)
    else:
        config = {"learning_rate": learning_rate, "batch_size": batch_size}
        trial = make_trial(
            config, data=data, seed=derive_seed(seed, 0 if job is None else job.trial_id)
        )
    report = Reporter()
    while trial.epoch < max_epochs:
        trial.train_epoch()
        error = trial.validation_error()
        checkpoint.save(trial.state_dict())  # before the report, which may end the job
        report(epoch=trial.epoch, validation_error=error)
