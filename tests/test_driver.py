"""The one driver under both clocks: the SimPy clock and the real executor on FakeBackend make the
same trace for the same scheduler, seed and epoch costs (ARCHITECTURE §3b)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.contract import check_scheduler
from ashasim.core import make_scheduler
from ashasim.driver import RunError
from ashasim.run import Reporter, StoppingCriterion, Tuner, current_job
from ashasim.sim import simulate
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.space import uniform

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 9}
SCHEDULERS = [
    ("asha", {}),
    ("asha-stopping", {}),
    ("sync-sh", {"overlap": "none"}),
    ("sync-sh", {"overlap": "top-rung"}),
    ("sync-sh", {"overlap": "always"}),
    ("sync-sh", {"overlap": "top-rung", "resume": False}),
    ("sync-hyperband", {"overlap": "always"}),
    ("async-hyperband", {}),
    ("random", {}),
]


class Costs(CostModel):
    """Epoch seconds and metrics from drawn tables (repeats make ties in time and in rank)."""

    def __init__(self, seconds: list[float], metrics: list[float]) -> None:
        super().__init__()
        self.seconds, self.metrics = seconds, metrics

    def seconds_of(self, trial_id: int, config: dict, epoch: int) -> float:
        return self.seconds[(5 * trial_id + epoch) % len(self.seconds)]

    def metric_of(self, trial_id: int, epoch: int) -> float:
        return self.metrics[(7 * trial_id + 3 * epoch) % len(self.metrics)]

    def epoch_fn(self, seed: int) -> EpochFn:
        return lambda t, c, e: (self.seconds_of(t, c, e), self.metric_of(t, e))


def objective_for(costs: Costs):
    """The objective the real executor runs: it reports what the cost model says."""

    def objective(x: float, max_epochs: int) -> None:
        job = current_job()
        report = Reporter()
        for epoch in range(job.resume_from + 1, max_epochs + 1):
            report(epoch=epoch, metric=costs.metric_of(job.trial_id, epoch))

    return objective


def segments(trace):
    return [
        (s.worker, s.trial_id, s.resume_from, s.resource, s.start, s.end, s.reason)
        for s in trace.segments
    ]


def results(trace):
    return [(r.t, r.worker, r.trial_id, r.resource, r.metric) for r in trace.results]


@settings(max_examples=40, deadline=None)
@given(
    choice=st.sampled_from(SCHEDULERS),
    eta=st.sampled_from([2, 3]),
    n_workers=st.integers(1, 5),
    max_trials=st.integers(1, 14),
    seed=st.integers(0, 20),
    seconds=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.25]), min_size=1, max_size=7),
    metrics=st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.8]), min_size=1, max_size=9),
    max_time=st.one_of(st.none(), st.sampled_from([3.0, 7.5, 20.0])),
)
def test_simulator_and_fake_backend_make_the_same_trace(
    tmp_path_factory, choice, eta, n_workers, max_trials, seed, seconds, metrics, max_time
):
    name, options = choice
    costs = Costs(seconds, metrics)

    def scheduler():
        return make_scheduler(
            name,
            SPACE,
            max_t=9,
            grace_period=1,
            reduction_factor=eta,
            seed=seed,
            max_trials=max_trials,
            **options,
        )

    simulated = simulate(scheduler(), costs, n_workers, max_time=max_time, seed=seed)
    real = Tuner(
        objective_for(costs),
        SPACE,
        scheduler(),
        n_workers,
        stop=StoppingCriterion(max_wallclock_time=max_time),
        backend="fake",
        backend_options={"epoch_seconds": costs.seconds_of},
        experiment_dir=tmp_path_factory.mktemp("fake"),
        quiet=True,
        outputs=False,
    ).run()
    assert segments(real) == segments(simulated)
    assert results(real) == results(simulated)


class FirstComeFirstServed:
    """A scheduler written against the protocol alone (no SchedulerBase): a fixed list of
    configs, each trained to max_t, stopped at epoch 2 when its metric is above 0.5."""

    metric, mode, resource_attr = "metric", "min", "epoch"
    max_t, rung_levels = 4, (2, 4)

    def __init__(self, xs: list[float]) -> None:
        self.config_space = SPACE
        self.xs = list(xs)
        self.max_trials: int | None = len(xs)
        self.n_trials = 0
        self.running: set[int] = set()

    def suggest(self):
        from ashasim.core import Job

        if self.n_trials >= (self.max_trials or 0):
            return None
        trial_id = self.n_trials
        self.n_trials += 1
        self.running.add(trial_id)
        config = {"x": self.xs[trial_id], "max_epochs": 9}
        return Job(trial_id, config, 0, 4, save_checkpoint=False)

    def report(self, trial_id, resource, metric):
        from ashasim.core import Decision

        if (resource == 2 and metric > 0.5) or resource == 4:
            self.running.discard(trial_id)
        return Decision.STOP if resource == 2 and metric > 0.5 else Decision.CONTINUE

    def fail(self, trial_id):
        self.running.discard(trial_id)

    end = fail  # a trial that ended by returning is forgotten alike

    @property
    def done(self):
        return self.n_trials >= (self.max_trials or 0) and not self.running

    def limit_trials(self, max_trials):
        self.max_trials = min(self.max_trials or max_trials, max_trials)

    def describe(self):
        return {"name": "FirstComeFirstServed"}


def test_a_scheduler_written_against_the_protocol_runs_in_both_clocks(tmp_path):
    costs = Costs([1.0, 2.0], [0.3, 0.9, 0.2, 0.6])
    xs = [0.1, 0.2, 0.3, 0.4, 0.5]
    simulated = simulate(FirstComeFirstServed(xs), costs, 2)
    real = Tuner(
        objective_for(costs),
        SPACE,
        FirstComeFirstServed(xs),
        2,
        backend="fake",
        backend_options={"epoch_seconds": costs.seconds_of},
        experiment_dir=tmp_path,
        quiet=True,
    ).run()
    assert segments(real) == segments(simulated)
    assert len(simulated.trial_ids) == 5
    stopped = {s.trial_id for s in simulated.segments if s.reason == "stopped"}
    assert stopped == {t for t in range(5) if costs.metric_of(t, 2) > 0.5}


def test_check_scheduler_names_what_is_missing():
    with pytest.raises(ValueError, match="lacks config_space, metric, mode, resource_attr"):
        check_scheduler(object())
    assert check_scheduler(FirstComeFirstServed([0.5])) is not None


class Stuck(FirstComeFirstServed):
    def suggest(self):
        return None


def test_run_error_is_what_both_clocks_raise(tmp_path):
    """A stalled scheduler is the driver's error, whichever clock runs it."""

    with pytest.raises(RunError, match="stalled at t=0"):
        simulate(Stuck([0.5]), Costs([1.0], [0.5]), 2)
    with pytest.raises(RunError, match="stalled at t=0"):
        Tuner(
            objective_for(Costs([1.0], [0.5])),
            SPACE,
            Stuck([0.5]),
            2,
            backend="fake",
            experiment_dir=tmp_path,
            quiet=True,
        ).run()
