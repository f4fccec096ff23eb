"""Searchers inside the schedulers: who gets which calls, finite grids, named combinations."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import BOHB, AsyncBOHB, SyncHyperband, make_scheduler
from ashasim.core.factory import SCHEDULER_NAMES
from ashasim.search import KDESearcher, RandomSearcher, Searcher
from ashasim.sim import LearningCurves, simulate
from ashasim.space import choice, loguniform, randint
from ashasim.studies import chapter_story

ROOT = Path(__file__).resolve().parents[2]
LENET = LearningCurves(max_epochs=9)
BASE_NAMES = [n for n in SCHEDULER_NAMES if n not in ("bohb", "async-bohb", "asha-bo")]


class Recorder(RandomSearcher):
    """Random search that writes down every call it gets."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def suggest(self, trial_id):
        self.calls.append(("suggest", trial_id))
        return super().suggest(trial_id)

    def on_result(self, trial_id, resource, metric):
        self.calls.append(("result", trial_id, resource))

    def on_failure(self, trial_id):
        self.calls.append(("failure", trial_id))

    def on_end(self, trial_id):
        self.calls.append(("end", trial_id))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(BASE_NAMES), n_workers=st.integers(1, 4), seed=st.integers(0, 30))
def test_the_searcher_hears_of_every_trial_report_and_end(name, n_workers, seed):
    recorder = Recorder()
    scheduler = make_scheduler(
        name, LENET.config_space, max_t=9, reduction_factor=3, seed=seed, searcher=recorder
    )
    trace = simulate(scheduler, LENET, n_workers, max_trials=12, seed=seed)
    suggested = [c[1] for c in recorder.calls if c[0] == "suggest"]
    assert suggested == sorted(trace.trial_ids) == list(range(len(trace.trial_ids)))
    results = [(c[1], c[2]) for c in recorder.calls if c[0] == "result"]
    assert results == [(r.trial_id, r.resource) for r in trace.results]
    ended = [c[1] for c in recorder.calls if c[0] == "end"]
    assert len(ended) == len(set(ended))
    finished = {s.trial_id for s in trace.segments if s.reason == "stopped" or s.resource == 9}
    assert set(ended) == finished


def test_a_failure_reaches_the_searcher():
    recorder = Recorder()
    scheduler = make_scheduler("asha", LENET.config_space, max_t=9, searcher=recorder)
    job = scheduler.suggest()
    scheduler.fail(job.trial_id)
    assert recorder.calls[-1] == ("failure", job.trial_id)


def test_random_search_through_the_searcher_keeps_the_committed_chapter_journals(tmp_path):
    """The chapter's figures were simulated before searchers existed; the default searcher must
    reproduce their journals byte for byte (pinned against the files in experiments/figures)."""
    for name, schedule in (
        ("sync", chapter_story.sync_schedule),
        ("async", chapter_story.async_schedule),
    ):
        committed = ROOT / "experiments" / "figures" / f"story_{name}" / "journal.jsonl"
        fresh = tmp_path / name
        schedule(fresh)
        digest = hashlib.sha256((fresh / "journal.jsonl").read_bytes()).hexdigest()
        assert digest == hashlib.sha256(committed.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", BASE_NAMES)
def test_a_grid_ends_the_run_cleanly_with_every_config_once(name):
    space = {
        "learning_rate": choice([0.01, 0.1, 0.3, 1.0]),
        "batch_size": choice([32, 128, 256]),
        "max_epochs": 9,
    }
    scheduler = make_scheduler(name, space, max_t=9, reduction_factor=3, seed=4, searcher="grid")
    assert scheduler.max_trials == 12  # the grid bounds the budget: no max_time needed
    trace = simulate(scheduler, LENET, 3)
    configs = {}
    for event in trace.events:
        if type(event).__name__ == "JobStarted":
            configs.setdefault(event.trial_id, tuple(sorted(event.config.items())))
    assert len(configs) == 12 and len(set(configs.values())) == 12
    assert scheduler.done


def test_named_combinations():
    space = {
        "learning_rate": loguniform(1e-2, 1.0),
        "batch_size": randint(32, 256),
        "max_epochs": 9,
    }
    assert isinstance(BOHB(space, max_t=9).searcher, KDESearcher)
    assert isinstance(BOHB(space, max_t=9), SyncHyperband)
    assert isinstance(AsyncBOHB(space, type="promotion", max_t=9).searcher, KDESearcher)
    bohb = make_scheduler("bohb", space, max_t=9)
    assert type(bohb) is SyncHyperband and isinstance(bohb.searcher, KDESearcher)
    assert type(make_scheduler("asha-bo", space, max_t=9).searcher).__name__ == "GPSearcher"
    assert bohb.describe()["searcher"]["name"] == "KDESearcher"
    assert "searcher" not in make_scheduler("asha", space, max_t=9).describe()
    with pytest.raises(ValueError, match="searcher: scheduler 'bohb' comes with the 'kde'"):
        make_scheduler("bohb", space, max_t=9, searcher="gp")


def test_model_based_search_proposes_differently_once_it_has_data():
    space = LENET.config_space
    random_trace = simulate(
        make_scheduler("asha", space, max_t=9, reduction_factor=3, seed=2), LENET, 4, max_trials=60
    )
    kde_trace = simulate(
        make_scheduler("asha", space, max_t=9, reduction_factor=3, seed=2, searcher="kde"),
        LENET,
        4,
        max_trials=60,
    )

    def configs(trace):
        return [e.config for e in trace.events if type(e).__name__ == "JobStarted"]

    # the first proposals are random draws from the same generator; later ones differ
    assert configs(random_trace)[:2] == configs(kde_trace)[:2]
    assert configs(random_trace)[30:] != configs(kde_trace)[30:]


@pytest.mark.parametrize(
    ("searcher", "message"),
    [
        ("bayes", r"searcher must be one of \['random', 'grid', 'kde', 'gp'\]"),
        (3, "searcher must be one of"),
    ],
)
def test_bad_searchers_are_refused_by_name(searcher, message):
    with pytest.raises(ValueError, match=message):
        make_scheduler("asha", LENET.config_space, max_t=9, searcher=searcher)


def test_a_searcher_serves_one_scheduler():
    shared = KDESearcher()
    make_scheduler("asha", LENET.config_space, max_t=9, searcher=shared)
    with pytest.raises(ValueError, match="already configured"):
        make_scheduler("asha", LENET.config_space, max_t=9, searcher=shared)


def test_a_user_searcher_subclass_is_accepted():
    class Fixed(Searcher):
        def suggest(self, trial_id):
            return {"learning_rate": 0.1, "batch_size": 64, "max_epochs": 9}

    scheduler = make_scheduler("random", LENET.config_space, max_t=9, searcher=Fixed())
    trace = simulate(scheduler, LENET, 2, max_trials=3)
    assert {e.config["batch_size"] for e in trace.events if hasattr(e, "config")} == {64}
