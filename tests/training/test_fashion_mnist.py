"""The chapter's search space (the objective itself runs through the executor in
``tests/run/test_lenet_tuner.py``)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.space import LogUniform, RandInt
from ashasim.training.fashion_mnist import chapter_space


def test_chapter_space_is_the_chapters():
    assert chapter_space() == {
        "learning_rate": LogUniform(1e-2, 1.0),
        "batch_size": RandInt(32, 256),
        "max_epochs": 10,
    }
    assert chapter_space(max_epochs=27)["max_epochs"] == 27
