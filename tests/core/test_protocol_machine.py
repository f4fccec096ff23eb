"""The scheduler protocol under random call sequences, checked call by call against the
brute-force reference models (``tests.core.models``).

Hypothesis drives a scheduler the way any driver may: a free worker asks for work, a running
trial reports one or several epochs on, crashes (``fail``) or returns early (``end``), in any
interleaving. After every call the model must agree with the decision, and the protocol's own
promises must hold: a trial never runs twice at once, ``n_trials`` counts the trials started,
and a scheduler that suggests nothing while nothing runs is done (never a silent deadlock).
"""

from __future__ import annotations

import math

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ashasim import space
from ashasim.core import Decision, make_scheduler
from ashasim.core.defaults import OVERLAPS
from tests.core.models import AshaModel, SyncModel
from tests.strategies import ladders

SPACE = {"lr": space.loguniform(1e-3, 1.0), "bs": space.randint(8, 128)}
ASYNC = ("asha", "asha-stopping", "async-hyperband")
SYNC = ("sync-sh", "sync-hyperband")
# few distinct values, so ties (broken by trial id) and NaN/inf (ranked last) come up often
METRICS = st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.8, math.nan, math.inf, -math.inf])


class SchedulerProtocol(RuleBasedStateMachine):
    """One scheduler, its reference model, and the jobs its workers run."""

    @initialize(
        name=st.sampled_from(ASYNC + SYNC),
        ladder=ladders(),
        n_workers=st.integers(1, 5),
        max_trials=st.integers(1, 20),
        mode=st.sampled_from(["min", "max"]),
        overlap=st.sampled_from(OVERLAPS),
        resume=st.booleans(),
        seed=st.integers(0, 2**16),
    )
    def build(self, name, ladder, n_workers, max_trials, mode, overlap, resume, seed):
        options = {"overlap": overlap, "resume": resume} if name in SYNC else {}
        self.scheduler = make_scheduler(
            name,
            SPACE,
            max_t=ladder.max_t,
            grace_period=ladder.grace_period,
            reduction_factor=ladder.eta,
            mode=mode,
            max_trials=max_trials,
            seed=seed,
            **options,
        )
        if name in SYNC:
            self.model: AshaModel | SyncModel = SyncModel(self.scheduler)
        else:
            self.model = AshaModel(self.scheduler, self.scheduler.type)
        self.n_workers = n_workers
        self.running: dict[int, list] = {}  # trial -> [job, last resource reported]
        self.started: set[int] = set()
        self.steps = 0  # SyncModel's log index (its overlap check orders jobs by it)

    # -- a free worker asks for work ------------------------------------------------------------

    @precondition(lambda self: len(self.running) < self.n_workers)
    @rule()
    def suggest(self):
        job = self.scheduler.suggest()
        self.steps += 1
        self.model.index = self.steps
        if job is None:
            if isinstance(self.model, AshaModel):
                self.model.check_none()
            if not self.running:  # every worker free, nothing to do: it must be over
                assert self.scheduler.done, "nothing runs, nothing suggested, yet not done"
            return
        assert job.trial_id not in self.running, f"trial {job.trial_id} would run twice"
        assert 0 <= job.resume_from < job.milestone <= self.scheduler.max_t
        self.model.check_job(job)
        self.running[job.trial_id] = [job, job.resume_from]
        self.started.add(job.trial_id)

    # -- a running trial reports, crashes or returns ----------------------------------------------

    @precondition(lambda self: self.running)
    @rule(data=st.data(), metric=METRICS, step=st.integers(1, 3))
    def report(self, data, metric, step):
        trial_id = data.draw(st.sampled_from(sorted(self.running)), label="trial")
        job, resource = self.running[trial_id]
        resource = min(resource + step, job.milestone)
        decision = self.scheduler.report(trial_id, resource, metric)
        if isinstance(self.model, SyncModel) and resource < job.milestone:
            assert decision is Decision.CONTINUE  # the sync model sees milestone reports only
        else:
            self.model.check_report(trial_id, resource, metric, decision)
        if decision is Decision.STOP or resource == job.milestone:
            del self.running[trial_id]
        else:
            self.running[trial_id][1] = resource

    @precondition(lambda self: self.running)
    @rule(data=st.data(), how=st.sampled_from(["fail", "end"]))
    def leave(self, data, how):
        """The trial crashed (``fail``) or its objective returned before the milestone
        (``end``): to the rules the two are alike, the trial is gone and nothing waits for it."""
        trial_id = data.draw(st.sampled_from(sorted(self.running)), label="trial")
        getattr(self.scheduler, how)(trial_id)
        self.model.fail(trial_id)
        del self.running[trial_id]

    # -- what holds after every call -----------------------------------------------------------

    @invariant()
    def counts_agree(self):
        if hasattr(self, "scheduler"):
            assert self.scheduler.n_trials == len(self.started)
            assert self.scheduler.n_trials <= self.scheduler.max_trials

    def teardown(self):
        if isinstance(getattr(self, "model", None), SyncModel):
            self.model.check_overlap()


SchedulerProtocol.TestCase.settings = settings(
    SchedulerProtocol.TestCase.settings, stateful_step_count=60, deadline=None
)
test_scheduler_protocol = SchedulerProtocol.TestCase
