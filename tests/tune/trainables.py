"""Pure-Python trainables for the Ray Tune façade's tests, written as Ray Tune users write them
(importable, so spawned workers find them)."""

from __future__ import annotations

import json
import math
import os
import pickle

from ashasim import tune


def curve(x: float, iteration: int) -> float:
    """A known learning curve: lower x is better, every iteration improves."""
    return x + 1.0 / iteration


def quadratic(config):
    """Ten reports of curve(x, i), a "model" pickled into the working directory each time."""
    for i in range(1, 11):
        tune.report(loss=curve(config["x"], i), accuracy=1 - config["x"])
        with open("model.pth", "wb") as stream:
            pickle.dump({"x": config["x"], "iteration": i}, stream)


def forever(config):
    """Reports until it is stopped (FIFO runs it to stop's limit)."""
    i = 0
    while True:
        i += 1
        tune.report(loss=curve(config["x"], i))


def with_checkpoint_dir(config, checkpoint_dir=None):
    """Ray Tune 1.x checkpoints: a directory per checkpoint, the restored one as an argument;
    the state counts the iterations really trained, to prove a resumed trial does not retrain."""
    state = {"step": 0, "trained": 0}
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "state.json")) as stream:
            state = json.load(stream)
    for step in range(state["step"] + 1, config.get("steps", 9) + 1):
        state = {"step": step, "trained": state["trained"] + 1}
        with (
            tune.checkpoint_dir(step=step) as folder,
            open(os.path.join(folder, "state.json"), "w") as out,
        ):
            json.dump(state, out)
        tune.report(loss=curve(config["x"], step), trained=state["trained"], step=step)


def with_get_checkpoint(config):
    """Ray Tune 2.x checkpoints: tune.get_checkpoint() and tune.report(..., checkpoint=)."""
    import tempfile

    state = {"step": 0, "trained": 0}
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as folder, open(os.path.join(folder, "state.json")) as f:
            state = json.load(f)
    for step in range(state["step"] + 1, 10):
        state = {"step": step, "trained": state["trained"] + 1}
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "state.json"), "w") as out:
                json.dump(state, out)
            tune.report(
                {"loss": curve(config["x"], step), "trained": state["trained"]},
                checkpoint=tune.Checkpoint.from_directory(folder),
            )


def by_epoch(config):
    """Reports its own resource, "epoch", which counts two per report (time_attr="epoch")."""
    for epoch in range(2, 13, 2):
        tune.report(loss=curve(config["x"], epoch), epoch=epoch)


def chapter_style(x, max_epochs):
    """The chapter's style: the config's keys as keyword arguments."""
    for epoch in range(1, max_epochs + 1):
        tune.report(loss=curve(x, epoch))


def nested(config):
    """Checks it gets its config nested as written."""
    width = config["model"]["width"]
    for i in range(1, 4):
        tune.report(loss=curve(config["x"], i) + width / 1000, dir=tune.get_trial_dir())


def never_reports(config):
    return None


def wrong_metric(config):
    for _ in range(3):
        tune.report(mean_loss=config["x"])


def with_data(config, data=None):
    """tune.with_parameters: extra keyword arguments travel with the trainable."""
    for i in range(1, 4):
        tune.report(loss=curve(config["x"], i) + data["offset"])


# -- the two snippets, with a pure-Python model ------------------------------------------


class TinyNet:
    """A "model" in plain Python: state_dict / load_state_dict like a torch module."""

    def __init__(self, l1: int = 4, l2: int = 4) -> None:
        self.weights = {"w": 0.0, "l1": l1, "l2": l2}

    def state_dict(self) -> dict:
        return dict(self.weights)

    def load_state_dict(self, state: dict) -> None:
        self.weights = dict(state)


def train_cifar(config, checkpoint_dir=None, data_dir=None):
    """The CIFAR tutorial's shape: checkpoint_dir argument, data_dir through partial, a
    checkpoint per epoch, loss and accuracy reported."""
    net = TinyNet(config["l1"], config["l2"])
    start = 0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "checkpoint"), "rb") as stream:
            state, start = pickle.load(stream)
        net.load_state_dict(state)
    with open(os.path.join(data_dir, "target.json")) as stream:
        target = json.load(stream)["lr"]
    for epoch in range(start, 10):
        net.weights["w"] += config["lr"] * config["batch_size"]
        loss = abs(math.log10(config["lr"]) - math.log10(target)) + 1.0 / (epoch + 1)
        with (
            tune.checkpoint_dir(epoch) as folder,
            open(os.path.join(folder, "checkpoint"), "wb") as out,
        ):
            pickle.dump((net.state_dict(), epoch + 1), out)
        tune.report(loss=loss, accuracy=1.0 / (1.0 + loss))


def train_mnist(config):
    """The MNIST tutorial's shape: ten reports of mean_accuracy, the model saved into the
    working directory (the trial's) after each."""
    model = TinyNet()
    for i in range(10):
        model.weights["w"] = 1.0 - abs(config["momentum"] - 0.5) - 0.01 / (i + 1)
        acc = model.weights["w"] - abs(math.log10(config["lr"]) + 2) / 20
        tune.report(mean_accuracy=acc)
        with open("model.pth", "wb") as stream:
            pickle.dump(model.state_dict(), stream)


FAILED_ONCE: set[int] = set()  # trials that have failed once (FakeBackend: one process)


def fails_once(config):
    """Five iterations; the first attempt of each trial raises after its second report."""
    trial = tune.get_trial_id()
    for iteration in range(1, 6):
        tune.report(loss=curve(config["x"], iteration))
        if iteration == 2 and trial not in FAILED_ONCE:
            FAILED_ONCE.add(trial)
            raise RuntimeError("a transient failure")


def losses_3_1_2(config):
    """Three checkpoints saved with losses 3, 1, 2 (each holds its loss in a file)."""
    for loss in (3.0, 1.0, 2.0):
        with tune.checkpoint_dir() as folder, open(os.path.join(folder, "loss"), "w") as out:
            out.write(str(loss))
        tune.report(loss=loss)


def accuracy_climbs(config):
    """mean_accuracy 0.1, 0.2, ... 1.0 over ten reports, scaled by config["rate"]."""
    for i in range(1, 11):
        tune.report(mean_accuracy=min(1.0, i * config.get("rate", 0.1)))


def returns_its_result(config):
    """Reports twice, then returns its final result, as Ray Tune trainables may."""
    tune.report(loss=2.0)
    tune.report(loss=1.5)
    return {"loss": curve(config["x"], 3)}


def yields_numbers(config):
    """A generator trainable: each yielded number is a report of "_metric"."""
    for i in range(1, 4):
        yield config["x"] + i


def always_fails(config):
    tune.report(loss=1.0)
    raise RuntimeError("the data loader broke")


def diverges(config):
    """Like ``quadratic``, but a large x diverges: NaN loss from the third report on."""
    for i in range(1, 11):
        loss = float("nan") if config["x"] > 0.6 and i >= 3 else curve(config["x"], i)
        tune.report(loss=loss)


def reports_its_context(config):
    """Reports what tune.get_context() says beside what the plain functions say."""
    context = tune.get_context()
    same = (
        context.get_trial_id() == tune.get_trial_id()
        and context.get_trial_name() == tune.get_trial_name()
        and context.get_trial_dir() == tune.get_trial_dir() == os.getcwd()
    )
    tune.report(loss=config["x"], same=same, experiment=context.get_experiment_name())
