"""Ray Tune's PyTorch CIFAR-10 tutorial on ashasim: only the imports differ.

    python -m experiments.ray_tune_cifar --data ./data --samples 10 --epochs 10 [--subset 2000]

The CIFAR-10 python batches (``cifar-10-batches-py/``, as the dataset's site ships them) must be
in ``--data``; nothing is downloaded. ``--subset N`` trains on the first N training images (CPU
runs; the tests use a tiny stand-in). The tuning code below is the tutorial's (Ray Tune 1.x
function API: ``checkpoint_dir`` argument and context manager, ``tune.report``), with ashasim in
the imports; ``resources_per_trial={"cpu": 2, "gpu": 0.5}`` packs two trials per GPU.
"""

from __future__ import annotations

import argparse
import os
import pickle
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the tutorial's name
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset, random_split

from ashasim import tune  # was: from ray import tune
from ashasim.tune import CLIReporter  # was: from ray.tune import CLIReporter
from ashasim.tune.schedulers import ASHAScheduler  # was: from ray.tune.schedulers import ...
from ashasim.tune.search import BasicVariantGenerator  # was: from ray.tune.search import ...


class Net(nn.Module):
    def __init__(self, l1: int = 120, l2: int = 84) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, l1)
        self.fc2 = nn.Linear(l1, l2)
        self.fc3 = nn.Linear(l2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def _batches(folder: str, names: list[str], subset: int | None) -> TensorDataset:
    images, labels = [], []
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as stream:
            batch = pickle.load(stream, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    if not images:
        raise FileNotFoundError(f"no CIFAR-10 batches {names} in {folder}")
    x = torch.from_numpy(np.concatenate(images)[:subset]).float().div_(255).sub_(0.5).div_(0.5)
    return TensorDataset(x, torch.from_numpy(np.concatenate(labels)[:subset]))


def load_data(data_dir: str = "./data", subset: int | None = None):
    """The train and test sets from CIFAR-10's python batches, normalized to [-1, 1]."""
    folder = os.path.join(data_dir, "cifar-10-batches-py")
    train = _batches(folder, [f"data_batch_{k}" for k in range(1, 6)], subset)
    return train, _batches(folder, ["test_batch"], None)


def train_cifar(config, checkpoint_dir=None, data_dir=None, subset=None):
    net = Net(config["l1"], config["l2"])
    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    net.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=config["lr"], momentum=0.9)
    start = 0
    if checkpoint_dir:  # a paused trial resumes where it stopped
        model_state, optimizer_state, start = torch.load(
            os.path.join(checkpoint_dir, "checkpoint"), weights_only=False
        )
        net.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
    trainset, _ = load_data(data_dir, subset)
    n_train = int(len(trainset) * 0.8)
    generator = torch.Generator().manual_seed(0)
    train_subset, val_subset = random_split(
        trainset, [n_train, len(trainset) - n_train], generator=generator
    )
    trainloader = DataLoader(train_subset, batch_size=int(config["batch_size"]), shuffle=True)
    valloader = DataLoader(val_subset, batch_size=int(config["batch_size"]), shuffle=True)

    for epoch in range(start, 10):
        net.train()
        for inputs, labels in trainloader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
        val_loss, val_steps, total, correct = 0.0, 0, 0, 0
        net.eval()
        with torch.no_grad():
            for inputs, labels in valloader:
                inputs, labels = inputs.to(device), labels.to(device)
                outputs = net(inputs)
                correct += (outputs.argmax(1) == labels).sum().item()
                total += labels.size(0)
                val_loss += criterion(outputs, labels).cpu().item()
                val_steps += 1
        with tune.checkpoint_dir(epoch) as checkpoint_dir:
            path = os.path.join(checkpoint_dir, "checkpoint")
            torch.save((net.state_dict(), optimizer.state_dict(), epoch + 1), path)
        tune.report(loss=val_loss / val_steps, accuracy=correct / total)


def accuracy_on_test_set(net: nn.Module, device: str, data_dir: str) -> float:
    _, testset = load_data(data_dir)
    correct = total = 0
    with torch.no_grad():
        for images, labels in DataLoader(testset, batch_size=64):
            predicted = net(images.to(device)).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels.to(device)).sum().item()
    return correct / total


def main(
    num_samples: int = 10,
    max_num_epochs: int = 10,
    gpus_per_trial: float = 0.5,
    data_dir: str = "./data",
    subset: int | None = None,
    storage_path: str | None = None,
    seed: int | None = None,
):
    data_dir = os.path.abspath(data_dir)
    load_data(data_dir, subset)  # fail here, not in every trial, if the data are missing
    config = {
        "l1": tune.sample_from(lambda _: 2 ** np.random.randint(2, 9)),
        "l2": tune.sample_from(lambda _: 2 ** np.random.randint(2, 9)),
        "lr": tune.loguniform(1e-4, 1e-1),
        "batch_size": tune.choice([2, 4, 8, 16]),
    }
    scheduler = ASHAScheduler(
        metric="loss", mode="min", max_t=max_num_epochs, grace_period=1, reduction_factor=2
    )
    reporter = CLIReporter(metric_columns=["loss", "accuracy", "training_iteration"])
    # Not in the tutorial, which draws new configs on every run: *seed* makes the draws (and so a
    # diverging trial, e.g. lr near 0.1 at batch size 2) the same every time, in Ray's own terms.
    search_alg = None
    if seed is not None:
        search_alg = BasicVariantGenerator(random_state=seed)  # (checks the seed, naming it)
        np.random.seed(seed % 2**32)  # the sample_from lambdas draw from NumPy's global generator
    result = tune.run(
        partial(train_cifar, data_dir=data_dir, subset=subset),
        resources_per_trial={"cpu": 2, "gpu": gpus_per_trial},
        config=config,
        num_samples=num_samples,
        scheduler=scheduler,
        search_alg=search_alg,
        progress_reporter=reporter,
        storage_path=storage_path,
    )
    best_trial = result.get_best_trial("loss", "min", "last")
    print(f"Best trial config: {best_trial.config}")
    print(f"Best trial final validation loss: {best_trial.last_result['loss']}")
    print(f"Best trial final validation accuracy: {best_trial.last_result['accuracy']}")

    best_trained_model = Net(best_trial.config["l1"], best_trial.config["l2"])
    best_checkpoint_dir = best_trial.checkpoint.value
    model_state, _, _ = torch.load(
        os.path.join(best_checkpoint_dir, "checkpoint"), weights_only=False
    )
    best_trained_model.load_state_dict(model_state)
    accuracy = accuracy_on_test_set(best_trained_model, "cpu", data_dir)
    print(f"Best trial test set accuracy: {accuracy}")
    print(f"Idle fraction of the workers: {result.trace.idle_fraction:.1%}")
    return result, accuracy


if __name__ == "__main__":
    from ashasim.run.backend import visible_gpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="./data")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument("--out", default=None, help="storage path (default ~/ray_results)")
    parser.add_argument("--seed", type=int, default=None, help="the same configs every run")
    args = parser.parse_args()
    main(
        args.samples,
        args.epochs,
        gpus_per_trial=0.5 if visible_gpus() else 0,
        data_dir=args.data,
        subset=args.subset,
        storage_path=args.out,
        seed=args.seed,
    )
