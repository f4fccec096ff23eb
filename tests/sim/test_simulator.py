"""Properties of the SimPy clock and its traces, for every scheduler."""

import math
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.core import ASHA, RandomSearch, SyncSH
from ashasim.driver import RunError
from ashasim.events import load_experiment
from ashasim.frame import Stop
from ashasim.sim import LearningCurves, Scripted, simulate
from tests.invariants import check_trace
from tests.strategies import schedulers

LENET = LearningCurves(max_epochs=9)
SPACE = LENET.config_space


workloads = st.builds(
    LearningCurves,
    max_epochs=st.just(9),
    straggler_prob=st.sampled_from([0.0, 0.2]),
    time_jitter=st.sampled_from([0.0, 0.5]),
    startup_seconds=st.sampled_from([0.0, 2.0]),
    checkpoint_seconds=st.sampled_from([0.0, 0.5]),
    restore_seconds=st.sampled_from([0.0, 1.0]),
)


@given(schedulers(), workloads, st.integers(1, 8), st.integers(0, 100))
def test_trace_consistency(scheduler, workload, n_workers, seed):
    """No worker runs two jobs at once; busy + idle = makespan on every worker; a trial's jobs
    never overlap in time and continue where the last one stopped (or restart at 0 when the
    scheduler retrains); every job ends by a reason in REASONS."""
    trace = simulate(scheduler, workload, n_workers, seed=seed)
    check_trace(trace, retrains=not scheduler.resumes_promoted, reasons=("milestone", "stopped"))
    assert scheduler.done


@given(schedulers(names=["sync-sh", "sync-hyperband"]), st.integers(1, 8), st.integers(0, 100))
def test_sync_never_opens_a_rung_before_the_previous_one_is_complete(scheduler, n_workers, seed):
    assert isinstance(scheduler, SyncSH)
    trace = simulate(scheduler, LENET, n_workers, seed=seed)
    by_rung = defaultdict(list)
    for segment in trace.segments:
        by_rung[(segment.bracket, segment.milestone)].append(segment)
    for (bracket, milestone), jobs in by_rung.items():
        lower = [m for (b, m) in by_rung if b == bracket and m < milestone]
        if lower:
            below = by_rung[(bracket, max(lower))]
            assert min(s.start for s in jobs) >= max(s.end for s in below)


@given(
    st.sampled_from(["promotion", "stopping"]), workloads, st.integers(1, 16), st.integers(0, 50)
)
def test_asha_with_unlimited_trials_never_idles(kind, workload, n_workers, seed):
    scheduler = ASHA(SPACE, type=kind, max_t=9, grace_period=1, reduction_factor=3, seed=seed)
    trace = simulate(scheduler, workload, n_workers, max_time=300.0, seed=seed)
    assert all(trace.idle_intervals(w) == [] for w in range(n_workers))
    assert trace.idle_fraction == pytest.approx(0.0, abs=1e-12)
    assert trace.makespan == 300.0
    assert {s.reason for s in trace.segments} <= {"milestone", "stopped", "cancelled"}


@given(schedulers(max_trials=st.integers(1, 12)), st.integers(1, 6), st.integers(0, 100))
def test_same_seed_same_journal_bytes_and_reload(tmp_path_factory, scheduler, n_workers, seed):
    """Bit-for-bit reproducible journals; load_experiment rebuilds the same Trace."""
    import copy

    first, second = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    twin = copy.deepcopy(scheduler)
    trace = simulate(scheduler, LENET, n_workers, seed=seed, journal=first)
    simulate(twin, LENET, n_workers, seed=seed, journal=second)
    assert (first / "journal.jsonl").read_bytes() == (second / "journal.jsonl").read_bytes()
    reloaded = load_experiment(first)
    assert reloaded == trace
    assert reloaded.segments == trace.segments
    assert reloaded.summary() == trace.summary()


def test_free_workers_get_jobs_in_index_order():
    """Two workers finish at the same instant: all reports first, then Worker-0 gets the first
    job, even though Worker-1's report came last (it does not jump the queue)."""
    workload = Scripted({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}, lambda t, e: [0.5, 0.1, 0.9, 0.9][t])
    scheduler = ASHA(
        SPACE, type="promotion", max_t=2, grace_period=1, reduction_factor=2, max_trials=4
    )
    trace = simulate(scheduler, workload, 2)
    second_round = [s for s in trace.segments if s.start == 1.0]
    # Trial-1 is the better one: promoted to Worker-0 (lowest index), Trial-2 starts on Worker-1.
    assert [(s.worker, s.trial_id, s.resume_from) for s in second_round] == [(0, 1, 1), (1, 2, 0)]


def test_overheads_are_charged_to_the_job():
    workload = Scripted(
        {0: 1.0, 1: 1.0},
        lambda t, e: 0.1 * (t + 1),
        startup_seconds=0.5,
        checkpoint_seconds=0.25,
        restore_seconds=0.75,
    )
    scheduler = ASHA(
        SPACE, type="promotion", max_t=2, grace_period=1, reduction_factor=2, max_trials=2
    )
    trace = simulate(scheduler, workload, 1)
    spans = [(s.trial_id, s.start, s.end) for s in trace.segments]
    # Trial-0: start-up + epoch + checkpoint; Trial-1 likewise; Trial-0 resumes: restore + epoch.
    assert spans == [(0, 0.0, 1.75), (1, 1.75, 3.5), (0, 3.5, 5.25)]
    # The checkpoint is saved before the milestone report, so the report comes at the job's end.
    assert [r.t for r in trace.results] == [1.75, 3.5, 5.25]


def test_max_time_cancels_running_jobs_and_keeps_their_progress():
    workload = Scripted({t: 2.0 for t in range(10)}, lambda t, e: 1.0 / e)
    scheduler = RandomSearch(SPACE, max_t=5)
    trace = simulate(scheduler, workload, 2, max_time=5.0)
    assert trace.makespan == 5.0
    assert [(s.trial_id, s.resource, s.reason) for s in trace.segments] == [
        (0, 2, "cancelled"),
        (1, 2, "cancelled"),
    ]


def test_scripted_workload_says_which_trial_is_missing():
    workload = Scripted({0: 1.0}, {0: [0.5, 0.4]})
    scheduler = RandomSearch(SPACE, max_t=2, max_trials=2)
    with pytest.raises(Exception, match=r"no trial 1 \(it scripts trials \[0\]\)"):
        simulate(scheduler, workload, 2)
    with pytest.raises(
        Exception, match="trial 0 has metrics for epochs 1..2, the scheduler asked for epoch 3"
    ):
        simulate(RandomSearch(SPACE, max_t=3, max_trials=1), workload, 1)


class Stuck:
    """A broken scheduler: never done, never has work (otherwise the whole protocol)."""

    config_space = SPACE
    metric, mode, resource_attr = "metric", "min", "epoch"
    max_trials, n_trials = 1, 0
    max_t, rung_levels = 1, (1,)
    done = False

    def limit_trials(self, max_trials):
        self.max_trials = min(self.max_trials, max_trials)

    def describe(self):
        return {"name": "Stuck"}

    def suggest(self):
        return None

    def report(self, trial_id, resource, metric):
        raise AssertionError

    def fail(self, trial_id):
        raise AssertionError

    end = fail


def test_a_scheduler_without_the_whole_protocol_is_refused_up_front():
    class Partial:
        def suggest(self):
            return None

    with pytest.raises(ValueError, match="Partial lacks config_space, metric, mode"):
        simulate(Partial(), LENET, 2, max_time=10)


def test_a_stalled_scheduler_is_an_error_not_an_endless_loop():
    with pytest.raises(RunError, match="stalled at t=0"):
        simulate(Stuck(), LENET, 2)


def test_the_cycle_collector_is_paused_only_while_the_clock_runs():
    """simulate() pauses Python's cycle collector for speed; it must leave it as it found it,
    also when the run raises."""
    import gc

    seen = []

    def metric(trial_id, epoch):
        seen.append(gc.isenabled())
        return 0.5

    workload = Scripted({t: 1.0 for t in range(2)}, metric)
    assert gc.isenabled()
    simulate(RandomSearch(SPACE, max_t=2, max_trials=2), workload, 2)
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(RunError):
        simulate(Stuck(), LENET, 2)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(RandomSearch(SPACE, max_t=2, max_trials=2), workload, 2)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "options",
    [{"max_time": 40.0}, {"max_trials": 6}, {"stop": Stop(results=5)}, {"worker_loss": True}],
)
def test_a_finished_run_leaves_no_reference_cycle(options):
    """Once the caller drops the trace, reference counting alone frees the run (trace, driver,
    scheduler): a study that runs thousands of simulations must not wait for the cycle
    collector's full passes, each of which walks every event of the traces still held."""
    import gc
    import weakref

    from ashasim.experiment import Experiment
    from ashasim.sim.faults import WorkerLoss

    workload = LENET
    if options.pop("worker_loss", False):
        workload = LearningCurves(max_epochs=4, worker_loss=WorkerLoss(mtbf=30.0, downtime=5.0))
        options = {"max_time": 60.0}
    scheduler = ASHA(SPACE, type="promotion", max_t=4, grace_period=1, reduction_factor=2, seed=1)
    gc.collect()
    gc.disable()
    try:
        if "stop" in options:
            trace = Experiment(scheduler, 3, stop=options["stop"]).simulate(workload)
        else:
            trace = simulate(scheduler, workload, 3, **options)
        assert len(trace.results) > 3
        alive = [weakref.ref(trace), weakref.ref(scheduler)]
        del trace, scheduler
        assert [ref() for ref in alive] == [None, None]
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_workers": 0}, "n_workers must be an integer in 1..10000"),
        ({"max_time": -1.0}, "max_time must be a finite number > 0"),
        ({"max_time": math.inf}, "max_time must be a finite number > 0"),
        ({"seed": -2}, "seed must be an integer >= 0"),
        ({"max_trials": 0}, "max_trials must be an integer >= 1"),
        ({"costs": "lenet"}, "costs must be an ashasim.sim CostModel"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {
        "scheduler": RandomSearch(SPACE, max_t=3, max_trials=2),
        "costs": LENET,
        "n_workers": 2,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        simulate(**args)


def test_unbounded_runs_are_refused():
    with pytest.raises(ValueError, match="max_time or max_trials.*never ends"):
        simulate(RandomSearch(SPACE, max_t=3), LENET, 2)
