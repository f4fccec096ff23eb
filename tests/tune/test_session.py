"""The trainable's side outside a run: a trainable is still a plain function, and the
helpers say what they expect."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ashasim import tune
from ashasim.tune.checkpoints import Checkpoint, pack, unpack
from ashasim.tune.configs import flatten, trainable_name, unflatten
from ashasim.tune.naming import TrialNaming
from ashasim.tune.session import FunctionTrainable
from tests.tune import trainables


def test_outside_a_run_a_trainable_runs_as_a_plain_function(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainables.quadratic({"x": 0.5})  # tune.report does nothing
    assert (tmp_path / "model.pth").exists()
    assert tune.get_trial_dir() is None and tune.get_checkpoint() is None
    assert tune.get_trial_id() is None and tune.get_trial_name() is None
    with tune.checkpoint_dir(step=1) as folder:
        assert os.path.isdir(folder)
    assert not os.path.exists(folder)


def test_report_takes_a_dict_or_keywords():
    tune.report({"loss": 1.0})
    tune.report(loss=1.0)
    with pytest.raises(TypeError, match=r"takes a dict or keyword arguments"):
        tune.report(0.5)
    with pytest.raises(TypeError, match="needs at least one metric"):
        tune.report()
    with pytest.raises(TypeError, match="checkpoint must be a tune.Checkpoint"):
        tune.report(loss=1.0, checkpoint="/tmp")


@pytest.mark.parametrize(
    ("fn", "keys", "with_config", "checkpoint"),
    [
        (trainables.quadratic, ["x"], True, False),
        (trainables.with_checkpoint_dir, ["x"], True, True),
        (trainables.chapter_style, ["x", "max_epochs"], False, False),
        (tune.with_parameters(trainables.with_data, data={}), ["x"], True, False),
        (lambda **config: None, ["x"], False, False),
    ],
)
def test_how_a_trainable_is_called(fn, keys, with_config, checkpoint):
    """Ray Tune's train(config[, checkpoint_dir]) or the chapter's objective(**config)."""
    trainable = FunctionTrainable(
        fn, keys=keys, experiment_dir="/x", naming=TrialNaming("p"), metric=None, time_attr="t"
    )
    assert (trainable.with_config, trainable.takes_checkpoint) == (with_config, checkpoint)


def test_nested_configs_flatten_and_come_back():
    config = {"a": {"b": {"c": tune.uniform(0, 1)}, "d": 2}, "e": {}, "f": [1, 2]}
    flat = flatten(config)
    assert list(flat) == ["a/b/c", "a/d", "e", "f"]
    assert unflatten(flat) == config
    assert trainable_name(tune.with_parameters(trainables.quadratic, x=1)) == "quadratic"
    assert trainable_name(lambda config: None) == "trainable"


def test_checkpoint_directories_pack_and_unpack(tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "model.pt").write_bytes(b"\x00weights")
    (source / "sub" / "meta.json").write_text("{}")
    files = pack(source)
    assert files == {"model.pt": b"\x00weights", "sub/meta.json": b"{}"}
    target = unpack(files, tmp_path / "target")
    assert pack(target) == files
    checkpoint = Checkpoint.from_directory(target)
    assert os.path.join(checkpoint, "model.pt") == str(target / "model.pt")
    assert checkpoint.value == checkpoint.path == str(target)
    copied = Path(checkpoint.to_directory(tmp_path / "copy"))
    assert pack(copied) == files
    with checkpoint.as_directory() as folder:
        assert folder == str(target)
    with pytest.raises(ValueError, match="is not a directory"):
        Checkpoint.from_directory(tmp_path / "missing")
