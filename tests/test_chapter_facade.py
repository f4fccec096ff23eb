"""The chapter's (Syne Tune's) ASHA arguments map onto the core scheduler."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.chapter import ASHA, choice, loguniform, randint, uniform
from ashasim.core import ASHA as CoreASHA
from ashasim.search import GPSearcher


def test_chapter_arguments():
    config_space = {
        "learning_rate": loguniform(1e-2, 1),
        "batch_size": randint(32, 256),
        "max_epochs": 10,
    }
    scheduler = ASHA(
        config_space,
        metric="validation_error",
        mode="min",
        points_to_evaluate=[{"learning_rate": 0.1, "batch_size": 128}],
        max_resource_attr="max_epochs",
        resource_attr="epoch",
        grace_period=2,
        reduction_factor=2,
        random_seed=1,
    )
    assert isinstance(scheduler, CoreASHA)
    assert scheduler.type == "stopping"  # Syne Tune's default, which the chapter relies on
    assert scheduler.max_t == 10 and scheduler.rung_levels == (2, 4, 8, 10)
    assert (scheduler.metric, scheduler.resource_attr) == ("validation_error", "epoch")
    job = scheduler.suggest()
    assert job.config == {"learning_rate": 0.1, "batch_size": 128, "max_epochs": 10}
    assert job.milestone == 10
    second = scheduler.suggest().config
    assert 1e-2 <= second["learning_rate"] <= 1 and 32 <= second["batch_size"] <= 256
    promotion = ASHA(
        config_space, metric="err", max_t=10, type="promotion", grace_period=2, reduction_factor=2
    )
    assert promotion.suggest().milestone == 2


def test_kde_by_its_syne_tune_name_keeps_syne_tunes_64_candidates():
    """Syne Tune's KDE searcher draws 64 candidates per proposal; ashasim's own draws 24. The
    façade keeps its library's default, and search_options still set it."""
    from ashasim.search import make_searcher

    space = {"learning_rate": loguniform(1e-2, 1), "max_epochs": 10}
    facade = ASHA(space, metric="err", max_t=10, searcher="kde")
    assert facade.searcher.num_samples == 64
    assert make_searcher("kde").num_samples == 24
    chosen = ASHA(space, metric="err", max_t=10, searcher="kde", search_options={"num_samples": 8})
    assert chosen.searcher.num_samples == 8


# -- searcher= and search_options= as Syne Tune builds them ------------------------------------

SPACE = {
    "learning_rate": loguniform(1e-3, 1),
    "batch_size": randint(8, 10),
    "x": uniform(0, 1),
    "kind": choice(["a", "b"]),
    "max_epochs": 9,
}


def facade(searcher: str, **options: object) -> ASHA:
    return ASHA(SPACE, metric="err", max_resource_attr="max_epochs", searcher=searcher, **options)


def test_bayesopt_under_asha_is_the_multi_fidelity_gp_as_in_syne_tune():
    """Syne Tune's ASHA with searcher="bayesopt" builds GPMultiFidelitySearcher (MOBSTER's GP,
    which learns from every report); the single-level GP would be a different method."""
    gp = facade("bayesopt").searcher
    assert isinstance(gp, GPSearcher) and gp.fidelity
    single = facade("bayesopt", search_options={"fidelity": False}).searcher
    assert isinstance(single, GPSearcher) and not single.fidelity


@settings(max_examples=30, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "num_min_data_points": st.integers(1, 20),
            "top_n_percent": st.integers(1, 99),
            "num_candidates": st.integers(1, 200),
            "bandwidth_factor": st.floats(0.5, 5),
            "min_bandwidth": st.floats(1e-4, 0.1),
            "random_fraction": st.floats(0, 1),
        },
    )
)
def test_syne_tunes_kde_options_set_the_same_settings(options):
    """Each of Syne Tune's KDE option names sets the ashasim setting that means the same
    (top_n_percent is a percentage, top_fraction a fraction); the rest keep the façade's
    defaults (Syne Tune's 64 candidates)."""
    kde = facade("kde", search_options=options).searcher
    expected = {
        "min_points": options.get("num_min_data_points"),
        "top_fraction": options.get("top_n_percent", 15) / 100,
        "num_samples": options.get("num_candidates", 64),
        "bandwidth_factor": options.get("bandwidth_factor", 3.0),
        "min_bandwidth": options.get("min_bandwidth", 1e-3),
        "random_fraction": options.get("random_fraction", 1 / 3),
    }
    assert {name: getattr(kde, name) for name in expected} == pytest.approx(expected)


def test_syne_tunes_gp_options_set_the_same_settings():
    options = {"num_init_random": 3, "num_init_candidates": 40, "max_size_data_for_model": 100}
    gp = facade("bayesopt", search_options=options).searcher
    assert (gp.random_search_steps, gp.num_candidates, gp.max_points) == (3, 40, 100)


def test_syne_tunes_grid_sizes_every_range_that_num_samples_does_not():
    """Syne Tune's grid takes 5 values of a real range and at most 5 of an integer range unless
    num_samples says otherwise; the budget is the grid's size."""
    grid = facade("grid", search_options={"num_samples": {"learning_rate": 2}}).searcher
    assert grid.num == {"learning_rate": 2, "batch_size": 3, "x": 5}
    scheduler = facade("grid")
    assert scheduler.max_trials == 5 * 3 * 5 * 2  # learning_rate, batch_size, x, kind
    configs = [scheduler.suggest().config for _ in range(scheduler.max_trials)]
    assert len({tuple(sorted(c.items())) for c in configs}) == scheduler.max_trials


@pytest.mark.parametrize(
    ("searcher", "options", "said"),
    [
        ("bayesopt", {"opt_skip_period": 3}, "search_options['opt_skip_period'] has no"),
        ("kde", {"debug_log": True}, "search_options['debug_log'] has no"),
        ("random", {"debug_log": True}, "takes no options"),
        ("kde", {"top_n_percent": 0.15}, "top_n_percent'] must be an integer in 1..99"),
        ("kde", {"num_candidates": 8, "num_samples": 9}, "names one setting twice"),
    ],
)
def test_a_search_option_ashasim_cannot_honour_is_refused_in_one_line(searcher, options, said):
    """Syne Tune drops an option it does not know without a word; the façade refuses it,
    naming it and the options it takes, rather than run a different search."""
    with pytest.raises(ValueError, match=re.escape(said)) as error:
        facade(searcher, search_options=options)
    assert "\n" not in str(error.value)
