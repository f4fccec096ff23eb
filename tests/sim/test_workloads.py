"""Cost models: Scripted and LearningCurves workloads, and the overheads every model has
(``Tabular`` has its own file, ``test_tabular.py``)."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.sim import CostModelError, LearningCurves, Scripted, Tabular
from ashasim.space import loguniform, randint

OVERHEADS = ["startup_seconds", "checkpoint_seconds", "restore_seconds"]

# -- overheads (every workload) -----------------------------------------------------------------


def make_scripted(**overheads):
    return Scripted({0: 1.0}, {0: [0.5]}, **overheads)


def make_tabular(**overheads):
    return Tabular([{"epoch": 1, "seconds": 1.0, "metric": 0.5}], **overheads)


@pytest.mark.parametrize("make", [make_scripted, LearningCurves, make_tabular])
@pytest.mark.parametrize("name", OVERHEADS)
@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf, True, "1"])
def test_bad_overheads_are_refused_naming_the_parameter(make, name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        make(**{name: value})


@pytest.mark.parametrize("make", [make_scripted, LearningCurves, make_tabular])
def test_overheads_are_kept_as_floats_and_described(make):
    workload = make(startup_seconds=2, checkpoint_seconds=0.5, restore_seconds=1.25)
    assert (workload.startup_seconds, workload.checkpoint_seconds, workload.restore_seconds) == (
        2.0,
        0.5,
        1.25,
    )
    assert type(workload.startup_seconds) is float
    described = workload.describe()
    assert described["name"] == type(workload).__name__
    assert described["startup_seconds"] == 2.0 and described["restore_seconds"] == 1.25
    assert json.loads(json.dumps(described)) == described  # JSON-able, as is


# -- Scripted -------------------------------------------------------------------------------------


def test_scripted_scalar_and_per_epoch_seconds():
    """A number is every epoch's time; a sequence gives each epoch its own."""
    workload = Scripted({0: 2.0, 1: [1.0, 3.0]}, {0: [0.9, 0.8], 1: [0.7, 0.6]})
    assert workload.epoch(0, {}, 1) == (2.0, 0.9)
    assert workload.epoch(0, {}, 2) == (2.0, 0.8)
    assert workload.epoch(1, {}, 1) == (1.0, 0.7)
    assert workload.epoch(1, {}, 2) == (3.0, 0.6)
    assert workload.trial_ids == [0, 1]


def test_scripted_sequences_and_mappings_are_the_same_script():
    as_lists = Scripted([2, [1, 3]], [[0.9, 0.8], [0.7, 0.6]])
    as_dicts = Scripted({1: [1, 3], 0: 2}, {0: [0.9, 0.8], 1: [0.7, 0.6]})
    fn_lists, fn_dicts = as_lists.epoch_fn(0), as_dicts.epoch_fn(5)
    for trial_id in (0, 1):
        for epoch in (1, 2):
            assert fn_lists(trial_id, {}, epoch) == fn_dicts(trial_id, {}, epoch)
    seconds, metric = fn_lists(1, {}, 2)
    assert type(seconds) is float and type(metric) is float
    assert as_lists.trial_ids == as_dicts.trial_ids == [0, 1]


def test_scripted_callable_metrics():
    """A callable (trial_id, epoch) -> metric answers for any epoch the times cover."""
    workload = Scripted({0: 1.5, 5: [1.0, 2.0, 4.0]}, lambda trial_id, epoch: 10 * trial_id + epoch)
    assert workload.epoch(5, {}, 3) == (4.0, 53.0)
    assert workload.epoch(0, {}, 100) == (1.5, 100.0)


def test_scripted_errors_say_what_is_missing():
    workload = Scripted({0: 2.0, 1: [1.0, 3.0]}, {0: [0.9, 0.8], 1: [0.7, 0.6, 0.5]})
    with pytest.raises(CostModelError, match=r"no trial 2 \(it scripts trials \[0, 1\]\)"):
        workload.epoch(2, {}, 1)
    with pytest.raises(CostModelError, match="cap max_trials at 2"):
        workload.epoch(7, {}, 1)
    with pytest.raises(
        CostModelError,
        match="trial 1 has epoch times for epochs 1..2, the scheduler asked for epoch 3",
    ):
        workload.epoch(1, {}, 3)
    with pytest.raises(
        CostModelError, match="trial 0 has metrics for epochs 1..2, the scheduler asked for epoch 3"
    ):
        workload.epoch(0, {}, 3)
    no_curve = Scripted({0: 1.0, 1: 1.0}, {0: [0.5]})
    with pytest.raises(CostModelError, match="trial 1 has metrics for epochs 1..0"):
        no_curve.epoch(1, {}, 1)
    assert issubclass(CostModelError, ValueError)


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        ({0: -1.0}, r"epoch_seconds\[0\] must be a finite number >= 0, got -1.0"),
        ({3: [1.0, math.nan]}, r"epoch_seconds\[3\] must be a finite number >= 0, got nan"),
        ([1.0, [2.0, -0.5]], r"epoch_seconds\[1\] must be a finite number >= 0"),
        ({0: math.inf}, r"epoch_seconds\[0\] must be a finite number"),
        ({0: [1.0, "2"]}, r"epoch_seconds\[0\] must be a finite number >= 0"),
    ],
)
def test_scripted_rejects_bad_seconds_at_construction(seconds, message):
    with pytest.raises(ValueError, match=message):
        Scripted(seconds, lambda trial_id, epoch: 0.0)


# -- LearningCurves ---------------------------------------------------------------------------

LENET = LearningCurves()
SMALL_CACHE = LearningCurves(cache_size=2)  # evicts constantly: recomputes must agree
NOISY = LearningCurves(metric_noise=0.5, time_jitter=0.9, straggler_prob=0.5)
NOISELESS = LearningCurves(metric_noise=0.0, max_epochs=30)
CONFIG = {"learning_rate": 0.1, "batch_size": 128}

learning_rates = st.floats(1e-2, 1.0)
batch_sizes = st.integers(32, 256)
trial_configs = st.fixed_dictionaries({"learning_rate": learning_rates, "batch_size": batch_sizes})


@given(
    st.integers(0, 2**32),
    st.dictionaries(st.integers(0, 10**6), trial_configs, min_size=1, max_size=5),
    st.data(),
)
def test_learning_curves_are_a_function_of_seed_trial_config_and_epoch(seed, configs, data):
    """The same (seed, trial, config, epoch) gives identical (seconds, metric) whatever the order
    of the calls, the other trials queried in between, or the cache evicting trials."""
    queries = [(t, e) for t in configs for e in range(1, LENET.max_epochs + 1)]
    alone = {(t, e): LENET.epoch(t, configs[t], e, noise_seed=seed) for t, e in queries}
    for workload in (LENET, SMALL_CACHE):
        fn = workload.epoch_fn(seed)
        for t, e in data.draw(st.permutations(queries)):
            assert fn(t, configs[t], e) == alone[(t, e)]
    again = LENET.epoch_fn(seed)
    assert [again(t, configs[t], e) for t, e in queries] == [alone[q] for q in queries]


def test_different_seeds_give_different_curves():
    curves = {seed: tuple(LENET.curve(0, CONFIG, noise_seed=seed)) for seed in range(5)}
    assert len(set(curves.values())) == 5
    assert LENET.curve(0, CONFIG, noise_seed=3) == list(curves[3])
    assert LENET.curve(0, CONFIG) != LENET.curve(1, CONFIG)  # and different trials


@given(trial_configs, st.integers(0, 10**6), st.integers(0, 2**20), st.integers(1, 10))
def test_learning_curve_metrics_are_errors_in_0_1_and_times_positive(config, trial, seed, epoch):
    for workload in (LENET, NOISY):
        seconds, metric = workload.epoch(trial, config, epoch, noise_seed=seed)
        assert 0.0 <= metric <= 1.0
        assert math.isfinite(seconds) and seconds > 0


@given(trial_configs, st.integers(0, 10**6), st.integers(0, 2**20))
def test_noiseless_error_never_increases_with_epochs(config, trial, seed):
    errors = [metric for _, metric in NOISELESS.curve(trial, config, noise_seed=seed)]
    assert all(later <= earlier for earlier, later in zip(errors, errors[1:]))
    # a small learning rate may leave the trial on the sigmoid plateau (as in the real runs)
    assert errors[-1] <= LENET.params["chance_error"]


@given(st.integers(0, 10**6), st.integers(0, 2**20))
def test_enough_progress_leaves_the_plateau(trial, seed):
    """lr 0.8 with batch 32 is far past the escape for any seed's shift within 3 sigma."""
    errors = [
        m
        for _, m in NOISELESS.curve(
            trial, {"learning_rate": 0.8, "batch_size": 32}, noise_seed=seed
        )
    ]
    assert errors[-1] < 0.3


def test_default_curves_learn_on_average():
    """Averaged over trials, a good learning rate goes from near chance towards the floor."""
    first, last = [], []
    for trial in range(200):
        curve = LENET.curve(trial, {"learning_rate": 0.3, "batch_size": 64})
        first.append(curve[0][1])
        last.append(curve[-1][1])
    assert sum(last) / 200 < sum(first) / 200
    assert sum(last) / 200 < 0.2


def nominal_seconds(workload, batch_size):
    p = workload.params
    return p["seconds_per_step"] * math.ceil(60_000 / batch_size) + p["seconds_per_epoch"]


def slow_trials(straggler_prob, n=1000):
    """Trials whose first epoch takes over twice the nominal time (no other time noise)."""
    workload = LearningCurves(straggler_prob=straggler_prob, time_jitter=0, trial_speed_spread=0)
    nominal = nominal_seconds(workload, 128)
    fn = workload.epoch_fn(7)
    return {t for t in range(n) if fn(t, CONFIG, 1)[0] > 2 * nominal}


def test_more_straggler_probability_gives_more_slow_trials():
    counts = {p: len(slow_trials(p)) for p in (0.0, 0.05, 0.2, 0.5, 1.0)}
    assert counts[0.0] == 0 and counts[1.0] == 1000
    assert counts[0.0] < counts[0.05] < counts[0.2] < counts[0.5] < counts[1.0]
    assert 20 <= counts[0.05] <= 90 and 150 <= counts[0.2] <= 250 and 430 <= counts[0.5] <= 570
    assert slow_trials(0.05) <= slow_trials(0.2) <= slow_trials(0.5)  # same draws, lower bar


def test_stragglers_take_straggler_factor_times_longer():
    workload = LearningCurves(
        straggler_prob=1.0, straggler_factor=4.0, time_jitter=0, trial_speed_spread=0
    )
    assert workload.epoch(0, CONFIG, 1)[0] == pytest.approx(4 * nominal_seconds(workload, 128))


def test_larger_batches_give_shorter_epochs():
    """Fewer steps per epoch: exactly seconds_per_step * ceil(n / batch) + seconds_per_epoch
    without noise, and shorter on average with the default noise."""
    exact = LearningCurves(straggler_prob=0, time_jitter=0, trial_speed_spread=0)
    for batch_size in (32, 100, 256):
        seconds, _ = exact.epoch(3, {"learning_rate": 0.1, "batch_size": batch_size}, 2)
        assert seconds == pytest.approx(nominal_seconds(exact, batch_size))

    def mean_time(batch_size):
        fn = LENET.epoch_fn(0)
        config = {"learning_rate": 0.1, "batch_size": batch_size}
        return sum(fn(t, config, 1)[0] for t in range(300)) / 300

    assert mean_time(32) > mean_time(64) > mean_time(256)


def test_learning_curves_config_space_is_the_chapters():
    assert LENET.config_space == {
        "learning_rate": loguniform(1e-2, 1.0),
        "batch_size": randint(32, 256),
        "max_epochs": 10,
    }
    assert LENET.max_epochs == 10
    assert LearningCurves(max_epochs=7).config_space["max_epochs"] == 7


def test_learning_curves_errors_are_clear():
    workload = LearningCurves(max_epochs=3)
    for epoch in (0, 4):
        with pytest.raises(
            CostModelError, match=rf"LearningCurves\(max_epochs=3\) has no epoch {epoch}"
        ):
            workload.epoch(0, CONFIG, epoch)
    with pytest.raises(
        CostModelError, match="needs config keys 'learning_rate' and 'batch_size'; missing 'batch"
    ):
        workload.epoch(0, {"learning_rate": 0.1}, 1)
    with pytest.raises(CostModelError, match="missing 'learning_rate'"):
        workload.epoch(0, {"batch_size": 64}, 1)
    with pytest.raises(CostModelError, match="learning_rate > 0 and batch_size >= 1"):
        workload.epoch(0, {"learning_rate": 0.0, "batch_size": 64}, 1)
    assert len(workload.curve(0, CONFIG)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"straggler_prob": 2}, r"straggler_prob must be a number in \[0, 1\], got 2"),
        ({"straggler_prob": -0.1}, "straggler_prob"),
        ({"time_jitter": 1.5}, "time_jitter must be < 1"),
        ({"time_jitter": -0.1}, "time_jitter must be a finite number >= 0"),
        ({"max_epochs": 0}, "max_epochs must be an integer >= 1"),
        ({"max_epochs": 2.0}, "max_epochs must be an integer >= 1"),
        ({"max_epochs": True}, "max_epochs must be an integer >= 1"),
        ({"floor_error": 0.9}, "floor_error < chance_error"),
        ({"floor_error": 0.5, "chance_error": 0.4}, "floor_error < chance_error"),
        ({"chance_error": 1.5}, "chance_error <= 1"),
        ({"floor_error": -0.1}, "0 <= floor_error"),
        ({"n_samples": 0}, "n_samples must be a finite number > 0"),
        ({"escape_progress": -1.0}, "escape_progress must be a finite number > 0"),
        ({"straggler_factor": 0}, "straggler_factor must be a finite number > 0"),
        ({"cache_size": 0}, "cache_size must be a finite number > 0"),
        ({"metric_noise": -0.01}, "metric_noise must be a finite number >= 0"),
        ({"seconds_per_step": math.nan}, "seconds_per_step must be a finite number >= 0"),
        ({"trial_spread": math.inf}, "trial_spread must be a finite number"),
    ],
)
def test_learning_curves_reject_bad_parameters_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LearningCurves(**kwargs)


def test_learning_curves_describe_is_json():
    described = LearningCurves(max_epochs=5, straggler_prob=0.1).describe()
    assert json.loads(json.dumps(described)) == described
    assert described["name"] == "LearningCurves"
    assert described["max_epochs"] == 5 and described["straggler_prob"] == 0.1
    assert "cache_size" not in described  # not part of the model
    assert {"chance_error", "floor_error", "time_jitter", "seconds_per_step"} <= set(described)


def test_scripted_epochs_start_at_one():
    from ashasim.sim import CostModelError, Scripted

    with pytest.raises(CostModelError, match="epochs start at 1"):
        Scripted({0: [1.0, 2.0]}, {0: [0.5, 0.4]}).epoch(0, {}, 0)
