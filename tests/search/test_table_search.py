"""Model-based searchers over a table's rows (``over_table``): only the table's configs, each at
most once, the run's end signalled by None, and the same proposals when the same calls are
replayed into a fresh searcher (what a resumed run does with its journal)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.search import GPSearcher, KDESearcher, Searcher
from ashasim.search._encoding import CAT, INT, REAL
from tests.strategies import searcher_calls

cells = st.one_of(
    st.integers(-5, 5), st.sampled_from([0.001, 0.1, 1.5, 20.0]), st.sampled_from(["a", "b", "c"])
)


@st.composite
def tables(draw):
    """1-30 rows with a config_id and 1-3 columns; each column of one kind (ints, reals,
    strings) or, now and then, a mix; rows may repeat a column value, ids never."""
    n_rows = draw(st.integers(1, 30))
    n_columns = draw(st.integers(1, 3))
    kinds = [draw(st.sampled_from(["int", "real", "str", "mix"])) for _ in range(n_columns)]
    strategy = {
        "int": st.integers(1, 500),
        "real": st.floats(-3, 3, allow_nan=False),
        "str": st.sampled_from(["sgd", "adam", "rmsprop"]),
        "mix": cells,
    }
    rows = [
        {"config_id": i, **{f"c{j}": draw(strategy[k]) for j, k in enumerate(kinds)}}
        for i in range(n_rows)
    ]
    return rows, [f"c{j}" for j in range(n_columns)]


def make(name: str) -> Searcher:
    if name == "kde":
        return KDESearcher(min_points=1, num_samples=8)
    return GPSearcher(min_points=1, random_search_steps=1, fidelity=name == "gp-mf")


def drive(searcher: Searcher, rows, columns, calls, seed):
    """Suggest, report, fail and end as drawn (reports only to live trials); the configs."""
    searcher.over_table(rows, columns)  # type: ignore[attr-defined]
    searcher.configure(
        {"config_id": space.randint(0, len(rows) - 1)}, mode="min", rng=np.random.default_rng(seed)
    )
    configs, live, next_id = [], [], 0
    for what, which, level, metric in calls + [("suggest", 0, 1, 0.0)] * (len(rows) + 1):
        if what == "suggest" or not live:
            config = searcher.suggest(next_id)
            configs.append(config)
            if config is not None:
                live.append(next_id)
                next_id += 1
            continue
        trial_id = live[which % len(live)]
        if what == "result":
            searcher.on_result(trial_id, level, metric)
        else:
            (searcher.on_failure if what == "fail" else searcher.on_end)(trial_id)
            live.remove(trial_id)
    return configs


@pytest.mark.parametrize("name", ["kde", "gp", "gp-mf"])
@given(table=tables(), calls=searcher_calls, seed=st.integers(0, 2**32 - 1))
def test_only_the_tables_configs_each_once_then_none_and_replays_alike(name, table, calls, seed):
    rows, columns = table
    configs = drive(make(name), rows, columns, calls, seed)
    handed = [c for c in configs if c is not None]
    assert sorted(c["config_id"] for c in handed) == list(range(len(rows)))  # all, each once
    assert all(c == rows[c["config_id"]] for c in handed)  # the row itself, every column
    assert configs[-1] is None and configs.index(None) == len(rows)  # then the end, for good
    assert repr(drive(make(name), rows, columns, calls, seed)) == repr(configs)


def test_columns_are_encoded_by_what_they_hold():
    rows = [
        {"config_id": i, "lr": lr, "width": w, "opt": o, "seed": 7, "flag": f}
        for i, (lr, w, o, f) in enumerate(
            [(1e-4, 8, "sgd", True), (1e-2, 64, "adam", False), (1e-1, 1024, "sgd", True)]
        )
    ]
    searcher = KDESearcher().over_table(rows, ["lr", "width", "opt", "seed", "flag"])
    searcher.configure({"config_id": space.randint(0, 2)}, mode="min", rng=np.random.default_rng(0))
    kinds = {p.name: (p.kind, p.log) for p in searcher.encoding.params}
    assert kinds == {
        "lr": (REAL, True),
        "width": (INT, True),
        "opt": (CAT, False),
        "flag": (CAT, False),
    }
    assert searcher.encoding.fixed == {"seed": 7}  # one value: no coordinate
    assert searcher.max_configs == 3


def test_over_table_refuses_what_it_cannot_honour():
    with pytest.raises(ValueError, match="at least one config"):
        KDESearcher().over_table([], ["x"])
    with pytest.raises(ValueError, match=r"column\(s\) \['y'\] missing"):
        KDESearcher().over_table([{"x": 1}], ["y"])
    searcher = GPSearcher().over_table([{"config_id": 0, "x": 1}, {"config_id": 1, "x": 2}], ["x"])
    with pytest.raises(ValueError, match="points_to_evaluate is not supported"):
        searcher.configure(
            {"config_id": space.randint(0, 1)},
            mode="min",
            rng=np.random.default_rng(0),
            points_to_evaluate=[{"config_id": 1}],
        )
    configured = KDESearcher()
    configured.configure({"x": space.uniform(0, 1)}, mode="min", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="before configure"):
        configured.over_table([{"x": 1}], ["x"])
