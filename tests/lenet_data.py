"""Small, learnable FashionMNIST stand-ins written as real IDX files (shared by the tests).

10 classes, each lights a distinct subset of the four 14 x 14 quadrants (class c lights quadrant b
iff bit b of c is set), on a dark noisy background. Linearly separable with large pixel
differences, so even the chapter's sigmoid LeNet leaves its plateau (after ~700-1,200 SGD steps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def quadrant_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28))
    for i, label in enumerate(labels):
        for bit in range(4):
            if (int(label) >> bit) & 1:
                row, col = divmod(bit, 2)
                images[i, row * 14 : row * 14 + 14, col * 14 : col * 14 + 14] += 200
    return np.clip(images, 0, 255).astype(np.uint8), labels


def write_dataset(directory: Path, n_train: int = 600, n_test: int = 200, seed: int = 0) -> Path:
    """The four IDX files (train ones gzipped, test ones raw: both forms are read)."""
    from ashasim.training.fashion_data import write_idx

    directory.mkdir(parents=True, exist_ok=True)
    train_x, train_y = quadrant_images(n_train, seed)
    test_x, test_y = quadrant_images(n_test, seed + 1)
    write_idx(directory / f"{FILES[0]}.gz", train_x)
    write_idx(directory / f"{FILES[1]}.gz", train_y)
    write_idx(directory / FILES[2], test_x)
    write_idx(directory / FILES[3], test_y)
    return directory
