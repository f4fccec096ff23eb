"""Tiny stand-ins for MNIST and CIFAR-10, written in the files' real formats (IDX; the python
batches), learnable in a few iterations: class c lights the quadrants of the bits of c."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np


def _images(n: int, seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, size, size))
    half = size // 2
    for i, label in enumerate(labels):
        for bit in range(4):
            if (int(label) >> bit) & 1:
                row, col = divmod(bit, 2)
                images[i, row * half : (row + 1) * half, col * half : (col + 1) * half] += 200
    return np.clip(images, 0, 255).astype(np.uint8), labels


def _idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_mnist(root: Path, n_train: int = 256, n_test: int = 128) -> Path:
    """``root/MNIST/raw/*-ubyte``: what torchvision.datasets.MNIST(root) reads."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = _images(n, seed, 28)
        _idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def write_cifar(root: Path, n_train: int = 200, n_test: int = 100) -> Path:
    """``root/cifar-10-batches-py/{data_batch_1,test_batch}``: CIFAR-10's python batches."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("data_batch_1", n_train, 2), ("test_batch", n_test, 3)):
        images, labels = _images(n, seed, 32)
        rgb = np.stack([images, images // 2, 255 - images], axis=1)  # N x 3 x 32 x 32
        batch = {b"data": rgb.reshape(n, -1), b"labels": [int(v) for v in labels]}
        (folder / name).write_bytes(pickle.dumps(batch))
    return root
