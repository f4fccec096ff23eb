"""LeNet on FashionMNIST: the training half of the Dive into Deep Learning HPO chapter.

The chapter's objective trains ``d2l.LeNet(lr=learning_rate)`` with plain SGD on FashionMNIST
(images scaled to [0, 1] by ``ToTensor``, no normalization) at batch size ``batch_size`` for up to
``max_epochs`` epochs, and reports the validation error (1 - accuracy on the 10,000 test images)
after each epoch. :func:`objective` is that loop for the executor, built from
:mod:`~ashasim.training.fashion_data` (the data on the device), :mod:`~ashasim.training.lenet`
(the model) and :mod:`~ashasim.training.trial` (a seeded, checkpointable trial);
:func:`chapter_space` is the chapter's search space.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import torch

from ashasim.training.fashion_data import FashionData, load_fashion_mnist
from ashasim.training.trial import derive_seed, make_trial, restore_trial


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
    step: str = "auto",
) -> None:
    """The chapter's objective: train LeNet epoch by epoch, report the validation error.

    Runs on the worker's GPU when it has one (the executor sets CUDA_VISIBLE_DEVICES), else on
    the CPU. A promoted trial resumes from its checkpoint (saved before each report), so no epoch
    is trained twice; the trial's seed derives from ``seed`` and its trial id. *step*: how the
    epochs execute (:mod:`ashasim.training.steps`; "auto": CUDA graphs on a GPU, eager on CPU).
    """
    from ashasim.run import Reporter, checkpoint, current_job

    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = _worker_data(None if data_dir is None else str(data_dir), device, subset, seed)
    job = current_job()
    state = checkpoint.load()
    if state is not None:
        trial = restore_trial(state, data=data, step=step)
    else:
        config = {"learning_rate": learning_rate, "batch_size": batch_size}
        trial_seed = derive_seed(seed, 0 if job is None else job.trial_id)
        trial = make_trial(config, data=data, seed=trial_seed, step=step)
    report = Reporter()
    while trial.epoch < max_epochs:
        trial.train_epoch()
        error = trial.validation_error()
        checkpoint.save(trial.state_dict())  # before the report, which may end the job
        report(epoch=trial.epoch, validation_error=error)
