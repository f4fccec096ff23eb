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


# -- rung_levels= and brackets= as Syne Tune reads them ------------------------------------------

LADDER_SPACE = {"x": uniform(0, 1), "epochs": 27}


def _decisions(scheduler, n_jobs=60):
    """The jobs a scheduler hands out while every job reports a metric that is a hash of its
    trial: a run's decisions, without a clock."""
    from ashasim.core.jobs import Decision

    jobs = []
    for _ in range(n_jobs):
        job = scheduler.suggest()
        if job is None:
            break
        metric = (job.trial_id * 7919 % 101) / 101
        for resource in range(job.resume_from + 1, job.milestone + 1):
            stop = scheduler.report(job.trial_id, resource, metric / resource) is Decision.STOP
            if stop or resource == job.milestone:
                break
        jobs.append((job.trial_id, job.resume_from, job.milestone, job.bracket, resource))
    return jobs


@pytest.mark.parametrize(
    ("rung_levels", "eta", "r_min"), [([1, 3, 9], 3, 1), ([3, 9, 27], 3, 3), ([1, 3, 9, 27], 3, 1)]
)
def test_geometric_rung_levels_are_the_ladder_syne_tune_runs(rung_levels, eta, r_min):
    """Syne Tune keeps the top r_j / r_(j+1) of each rung and strips max_t from rung_levels: a
    ladder that grows by one factor is that factor's ASHA, whatever grace_period says."""
    facade = ASHA(LADDER_SPACE, metric="loss", max_resource_attr="epochs", rung_levels=rung_levels)
    plain = ASHA(
        LADDER_SPACE,
        metric="loss",
        max_resource_attr="epochs",
        grace_period=r_min,
        reduction_factor=eta,
    )
    assert facade.rung_levels == plain.rung_levels and facade.reduction_factor == eta
    assert _decisions(facade) == _decisions(plain)
    with pytest.warns(UserWarning, match=r"rung_levels is given, so grace_period=2 .* ignored"):
        ASHA(LADDER_SPACE, metric="loss", max_t=27, rung_levels=rung_levels, grace_period=2)


@pytest.mark.parametrize("rung_levels", [[1, 2, 8], [1, 3, 9, 20], [5], [2, 4, 8]])
def test_other_rung_levels_are_refused_in_one_line(rung_levels):
    """Syne Tune would keep other shares at other rungs than ashasim's 1/eta: refused, saying
    which shares and what ashasim runs."""
    with pytest.raises(ValueError, match=r"^rung_levels=\[.*Syne Tune would keep the top") as e:
        ASHA(LADDER_SPACE, metric="loss", max_resource_attr="epochs", rung_levels=rung_levels)
    assert "\n" not in str(e.value) and "e.g. [1, 3, 9]" in str(e.value)
    with pytest.raises(ValueError, match=r"rung_levels\[1\] must be an integer in 1\.\.27"):
        ASHA(LADDER_SPACE, metric="loss", max_t=27, rung_levels=[1, 30])


@pytest.mark.parametrize("kind", ["stopping", "promotion"])
def test_brackets_make_asynchronous_hyperband_as_in_syne_tune(kind):
    """Syne Tune's ASHA(brackets=n) is asynchronous Hyperband over n brackets, each new trial's
    bracket drawn with probability proportional to S / ((S - s) r_s) (S rung levels with max_t,
    r_s bracket s's first level): the core's AsyncHyperband, the same decisions."""
    from ashasim.core import AsyncHyperband

    facade = ASHA(LADDER_SPACE, metric="loss", max_t=27, brackets=3, type=kind, random_seed=4)
    core = AsyncHyperband(
        LADDER_SPACE,
        type=kind,
        max_t=27,
        grace_period=1,
        reduction_factor=3,
        brackets=3,
        seed=4,
        metric="loss",
    )
    assert isinstance(facade, CoreASHA)
    levels = [*facade.rung_levels]
    syne_tune = [len(levels) / ((len(levels) - s) * levels[s]) for s in range(3)]
    assert facade.bracket_probabilities.tolist() == pytest.approx(
        [p / sum(syne_tune) for p in syne_tune]
    )
    jobs = _decisions(facade, 200)
    assert jobs == _decisions(core, 200)
    assert {bracket for *_, bracket, _ in jobs} == {0, 1, 2}
    with pytest.raises(ValueError, match=r"brackets must be in 1\.\.4"):
        ASHA(LADDER_SPACE, metric="loss", max_t=27, brackets=5)


def test_a_facade_ladder_survives_the_run_directory():
    """The run directory keeps the façade's own arguments (rung_levels, brackets) as data."""
    from ashasim.run.codec import decode, encode

    facade = ASHA(LADDER_SPACE, metric="loss", max_t=27, rung_levels=[3, 9], brackets=2)
    rebuilt = decode(encode(facade), run_directory=None)
    assert rebuilt.describe() == facade.describe()
    assert rebuilt.rung_levels == (3, 9, 27) and len(rebuilt.bracket_probabilities) == 2
