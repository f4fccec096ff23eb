"""``ashasim.run.codec``: what it can say comes back equal; what it cannot is refused by name."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.run.codec import NoJSONFormError, decode, encode
from ashasim.run.configs import Checkpoints, Local
from ashasim.space import choice, loguniform, randint, sample_from
from tests.run import objectives

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


def same(a, b):
    """Equal, NaN included, and of the same types all the way down."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@given(value=plain)
def test_plain_values_come_back_through_json(value):
    data = json.loads(json.dumps(encode(value)))
    assert same(decode(data, Path("/nonexistent")), value)


def test_configs_domains_and_partials_come_back(tmp_path):
    values = [
        Local(devices="cpu", workers_per_device=2),
        Checkpoints(retrain_on_miss=True),
        {"lr": loguniform(1e-4, 1e-1), "n": randint(1, 5), "c": choice(["a", "b"])},
        functools.partial(objectives.quadratic, sleep=0.5),
    ]
    for value in values:
        data = json.loads(json.dumps(encode(value)))
        assert encode(decode(data, tmp_path)) == encode(value)
    rebuilt = decode(encode(values[3]), tmp_path)
    assert rebuilt.func is objectives.quadratic and rebuilt.keywords == {"sleep": 0.5}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (lambda x: x, "has no import path"),
        (sample_from(lambda spec: 1), "no JSON form"),
        ({1: "a"}, "keys that are not strings"),
    ],
)
def test_what_has_no_json_form_is_refused_by_name(value, why):
    with pytest.raises(NoJSONFormError, match=why):
        encode(value)
