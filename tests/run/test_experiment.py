"""``Experiment``: one frame, two clocks. The frame is checked at construction (one line naming
the parameter), runs the same on the SimPy clock as the builders that came before it, runs for
real on a typed backend, resumes with checked changes, and its settings are JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim import ASHA, RandomSearch, SyncSH, simulate, uniform
from ashasim.events import JOURNAL
from ashasim.experiment import Checkpoints, Experiment, Fake, Faults, Local, Ray, Stop
from ashasim.run import ResumeError, StoppingCriterion, Tuner
from ashasim.sim import Scripted
from tests.run.objectives import quadratic

SPACE = {"x": uniform(0, 1), "max_epochs": 9}


def asha(seed: int = 1, **options) -> ASHA:
    return ASHA(
        SPACE, metric="loss", max_t=9, reduction_factor=3, type="promotion", seed=seed, **options
    )


def costs() -> Scripted:
    return Scripted(
        [1.0 + trial % 3 for trial in range(40)], lambda trial, level: 1 / (level + trial % 5)
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Stop(time=0), r"Stop\(time=...\) must be a finite number > 0"),
        (lambda: Stop(trials=0), r"Stop\(trials=...\) must be an integer >= 1"),
        (lambda: Faults(max_failures=0), "max_failures must be an integer >= 1"),
        (lambda: Faults(max_retries=-1), "max_retries must be an integer >= 0"),
        (lambda: Faults(retry_on_error=1), "retry_on_error must be True or False"),
        (lambda: Faults(trial_timeout=-2), "trial_timeout must be a finite number > 0"),
        (
            lambda: Experiment(asha(), 0, stop=Stop(trials=3)),
            "n_workers must be an integer in 1..10000",
        ),
        (lambda: Experiment(object(), 1, stop=Stop(trials=3)), "scheduler"),
        (lambda: Experiment(asha(), 1, stop=Stop()), "otherwise the run never ends"),
        (lambda: Experiment(asha(), 1, stop=3), r"stop must be Stop\("),
        (lambda: Experiment(asha(), 1, stop=Stop(trials=2), faults={}), r"faults must be Faults"),
        (lambda: Experiment(asha(), 1, stop=Stop(trials=2), durable="y"), "durable must be True"),
        (lambda: Experiment(asha(), 1, stop=Stop(trials=2), directory=3), "directory must be"),
        (lambda: Local(devices="tpu"), "devices must be 'auto', 'cpu' or a list"),
        (lambda: Local(workers_per_device=0), "workers_per_device must be an integer >= 1"),
        (lambda: Local(placement_timeout=0), "placement_timeout must be a finite number > 0"),
        (lambda: Ray(num_cpus=0), "num_cpus must be a finite number > 0"),
        (lambda: Ray(devices=["cuda:0"]), "devices must be 'auto' or 'cpu' on Ray"),
        (lambda: Fake(epoch_seconds=-1), "epoch_seconds must be a finite number >= 0"),
        (lambda: Fake(dies=3), "dies must be a function"),
        (lambda: Checkpoints(storage=""), "checkpoint_storage must be a path or a URI"),
        (lambda: Checkpoints(retrain_on_miss="no"), "retrain_on_miss must be True or False"),
    ],
)
def test_bad_values_are_refused_at_construction_in_one_line(make, message):
    with pytest.raises(ValueError, match=message) as caught:
        make()
    assert "\n" not in str(caught.value)


def test_a_scheduler_with_a_budget_of_its_own_needs_no_stop():
    scheduler = RandomSearch(SPACE, max_t=3, metric="loss", max_trials=4)
    assert Experiment(scheduler, 2, stop=Stop()).stop == Stop()


def test_replace_checks_again():
    experiment = Experiment(asha(), 2, stop=Stop(trials=5))
    assert experiment.replace(n_workers=3).n_workers == 3
    assert isinstance(experiment.replace(n_workers=3), Experiment)
    with pytest.raises(ValueError, match="n_workers must be an integer in 1..10000"):
        experiment.replace(n_workers=0)


def test_settings_are_json(tmp_path):
    experiment = Experiment(
        asha(), 2, stop=Stop(time=60.0, trials=5), directory=tmp_path, faults=Faults(max_retries=2)
    )
    settings = json.loads(json.dumps(experiment.settings()))
    rules = ("results", "completed", "finished", "metric_below", "metric_above")
    assert settings["stop"] == {"time": 60.0, "trials": 5, **dict.fromkeys(rules)}
    assert settings["faults"]["max_retries"] == 2
    assert settings["scheduler"]["name"] == "ASHA"
    assert settings["directory"] == str(tmp_path)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 50),
    n_workers=st.integers(1, 5),
    trials=st.integers(1, 20),
    time=st.none() | st.floats(1.0, 40.0),
    sync=st.booleans(),
)
def test_simulate_is_the_experiment_on_the_simpy_clock(seed, n_workers, trials, time, sync):
    """``ashasim.simulate`` builds the same frame: the same events, header and budget."""
    kind = SyncSH if sync else ASHA
    options = {} if sync else {"type": "promotion"}

    def scheduler():
        return kind(SPACE, metric="loss", max_t=9, reduction_factor=3, seed=seed, **options)

    built = simulate(scheduler(), costs(), n_workers, max_time=time, max_trials=trials, seed=3)
    experiment = Experiment(scheduler(), n_workers, stop=Stop(time=time, trials=trials))
    framed = experiment.simulate(costs(), seed=3)
    assert framed.events == built.events
    assert framed.info == built.info
    assert experiment.scheduler.max_trials == trials  # the stop's budget reached the scheduler


def test_a_simulated_experiment_writes_its_journal_and_outputs(tmp_path):
    trace = Experiment(asha(), 2, stop=Stop(trials=6), directory=tmp_path).simulate(costs())
    assert (tmp_path / JOURNAL).is_file()
    for name in ("results.csv", "summary.json", "replay.csv"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "summary.json").read_text())["trials"] == len(trace.trial_ids)
    quiet = tmp_path / "quiet"
    Experiment(asha(), 2, stop=Stop(trials=6), directory=quiet, outputs=False).simulate(costs())
    assert sorted(path.name for path in quiet.iterdir()) == [JOURNAL]


def test_a_real_experiment_matches_the_tuner_that_builds_it(tmp_path):
    """The same frame run by ``Experiment.run`` and by ``Tuner``: the same journal events."""
    fake = Fake(epoch_seconds=lambda trial, config, epoch: 1 + (trial * 7 + epoch) % 3)
    framed = Experiment(asha(), 3, stop=Stop(trials=12), directory=tmp_path / "a").run(
        quadratic, backend=fake, quiet=True, allow_pickle=True
    )
    built = Tuner(
        quadratic,
        None,
        asha(),
        3,
        stop=StoppingCriterion(max_trials=12),
        experiment_dir=tmp_path / "b",
        backend="fake",
        backend_options={"epoch_seconds": fake.epoch_seconds},
        quiet=True,
        allow_pickle=True,
    ).run()
    assert framed.events == built.events
    assert framed.info["backend"] == built.info["backend"] == "fake"
    assert (tmp_path / "a" / "replay.csv").is_file()


def test_resume_continues_with_checked_changes(tmp_path):
    """A run stopped by its time budget continues with a longer one: what it reported is kept,
    nothing is reported twice, and it reaches its trial budget; a change of the wrong kind is
    one line, and the directory is untouched by a refusal."""
    fake = Fake(epoch_seconds=2.0)

    def experiment(directory, time):
        return Experiment(asha(), 2, stop=Stop(time=time, trials=10), directory=directory)

    cut = experiment(tmp_path / "cut", 9.0).run(quadratic, backend=fake, quiet=True)
    assert len(cut.trial_ids) < 10
    before = (tmp_path / "cut" / JOURNAL).read_bytes()
    with pytest.raises(ResumeError, match="uses the 'fake' backend, not the 'local' backend"):
        Experiment.resume(tmp_path / "cut", backend=Local(devices="cpu"), quiet=True)
    with pytest.raises(ValueError, match="resume cannot change n_workers"):
        Experiment.resume(tmp_path / "cut", n_workers=3)
    with pytest.raises(ValueError, match="trial_timeout must be a finite number > 0"):
        Experiment.resume(tmp_path / "cut", faults={"trial_timeout": 0})
    for change, message in (
        ({"stop": 5}, r"stop must be Stop\(...\)"),
        ({"outputs": 1}, "outputs must be True or False"),
        ({"faults": 3}, "faults must be Faults"),
    ):
        with pytest.raises(ValueError, match=message):
            Experiment.resume(tmp_path / "cut", **change)
    assert (tmp_path / "cut" / JOURNAL).read_bytes() == before
    resumed = Experiment.resume(
        tmp_path / "cut", stop=Stop(time=400.0, trials=10), faults={"max_retries": 1}, quiet=True
    )
    kept = [(r.trial_id, r.resource, r.metric) for r in cut.results]
    final = [(r.trial_id, r.resource, r.metric) for r in resumed.results]
    assert final[: len(kept)] == kept
    assert len({(trial, resource) for trial, resource, _ in final}) == len(final)
    assert len(resumed.trial_ids) == 10
