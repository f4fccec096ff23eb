"""Bad arguments and illegal calls fail early, naming the parameter and the accepted range."""

import math

import pytest

from ashasim import core, space
from ashasim.chapter import ASHA as ChapterASHA
from ashasim.core import ASHA, AsyncHyperband, RandomSearch, SyncHyperband, SyncSH

SPACE = {"lr": space.loguniform(1e-3, 1.0), "max_epochs": 8}


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, reduction_factor=1),
            ValueError,
            "reduction_factor must be an integer >= 2, got 1",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, reduction_factor=2.5),
            ValueError,
            "reduction_factor must be an integer >= 2",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, grace_period=8),
            ValueError,
            r"grace_period must be < max_t \(=8\), got 8",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, grace_period=0),
            ValueError,
            "grace_period must be an integer >= 1",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=0),
            ValueError,
            "max_t must be an integer >= 1",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, mode="minimize"),
            ValueError,
            "mode must be one of 'min', 'max'; got 'minimize'",
        ),
        (
            lambda: ASHA(SPACE, type="median", max_t=8),
            ValueError,
            "type must be one of 'promotion', 'stopping'; got 'median'",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, max_trials=0),
            ValueError,
            "max_trials must be an integer >= 1",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, seed=-1),
            ValueError,
            "seed must be an integer >= 0",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, metric=""),
            ValueError,
            "metric must be a non-empty string",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, points_to_evaluate=[{"lr": 5.0}]),
            ValueError,
            r"points_to_evaluate\[0\]: lr=5.0 is outside its domain",
        ),
        (
            lambda: ASHA(SPACE, type="promotion", max_t=8, points_to_evaluate=[3]),
            ValueError,
            r"points_to_evaluate\[0\] must be a dict",
        ),
        (
            lambda: ASHA([1, 2], type="promotion", max_t=8),
            ValueError,
            "config_space must be a dict",
        ),
        (
            lambda: SyncSH(SPACE, max_t=8, overlap="sometimes"),
            ValueError,
            "overlap must be one of 'none', 'top-rung', 'always'; got 'sometimes'",
        ),
        (lambda: SyncSH(SPACE, max_t=8, n0=0), ValueError, "n0 must be an integer >= 1"),
        (lambda: SyncSH(SPACE, max_t=8, resume="yes"), ValueError, "resume must be True or False"),
        (
            lambda: SyncHyperband(SPACE, max_t=8, reduction_factor=2, brackets=5),
            ValueError,
            r"brackets must be in 1..4 \(one per rung level\), got 5",
        ),
        (
            lambda: AsyncHyperband(
                SPACE, type="promotion", max_t=8, reduction_factor=2, brackets=0
            ),
            ValueError,
            "brackets must be an integer >= 1",
        ),
        (lambda: RandomSearch(SPACE, max_t=-3), ValueError, "max_t must be an integer >= 1"),
        (
            lambda: ChapterASHA(SPACE, metric="err", max_resource_attr="epochs"),
            KeyError,
            "max_resource_attr='epochs' is not in config_space",
        ),
        (
            lambda: ChapterASHA(SPACE, metric="err", max_resource_attr="lr"),
            ValueError,
            "max_resource_attr='lr' must name an integer constant",
        ),
        (
            lambda: ChapterASHA(SPACE, metric="err", max_resource_attr="max_epochs", max_t=4),
            ValueError,
            r"max_t=4 disagrees with config_space\['max_epochs'\]=8",
        ),
        (lambda: ChapterASHA(SPACE, metric="err"), ValueError, "give max_t, or max_resource_attr"),
    ],
)
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.fixture
def running():
    scheduler = ASHA(SPACE, type="promotion", max_t=8, grace_period=1, reduction_factor=2)
    job = scheduler.suggest()
    return scheduler, job


def test_report_for_an_unknown_trial(running):
    scheduler, _ = running
    with pytest.raises(KeyError, match="unknown trial_id 7"):
        scheduler.report(7, 1, 0.5)
    with pytest.raises(KeyError, match="unknown trial_id 7"):
        scheduler.fail(7)


def test_report_with_a_resource_that_goes_backwards_or_past_the_milestone(running):
    scheduler, job = running
    with pytest.raises(ValueError, match=r"resource must be in \(0, 1\].*got 0"):
        scheduler.report(job.trial_id, 0, 0.5)
    with pytest.raises(ValueError, match=r"resource must be in \(0, 1\].*got 2"):
        scheduler.report(job.trial_id, 2, 0.5)
    with pytest.raises(ValueError, match="resource must be an integer"):
        scheduler.report(job.trial_id, 1.0, 0.5)
    with pytest.raises(ValueError, match="metric must be a number, got 'low'"):
        scheduler.report(job.trial_id, 1, "low")


def test_report_for_a_paused_or_failed_trial(running):
    scheduler, job = running
    scheduler.report(job.trial_id, 1, 0.5)
    with pytest.raises(ValueError, match="cannot report trial 0: it is paused, not running"):
        scheduler.report(job.trial_id, 2, 0.4)
    scheduler.fail(job.trial_id)
    with pytest.raises(ValueError, match="trial 0 is failed; it cannot fail"):
        scheduler.fail(job.trial_id)


def test_nan_and_inf_metrics_rank_last_but_are_accepted():
    s = ASHA(SPACE, type="promotion", max_t=8, grace_period=1, reduction_factor=2, mode="max")
    a, b = s.suggest(), s.suggest()
    s.report(a.trial_id, 1, math.inf)  # +inf in max mode would be best; non-finite ranks last
    s.report(b.trial_id, 1, -5.0)
    assert s.suggest().trial_id == b.trial_id


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda **kw: core.RandomSearch(SPACE, max_t=9, **kw), "RandomSearch"),
        (lambda **kw: core.SyncSH(SPACE, max_t=9, **kw), "SyncSH"),
        (lambda **kw: core.SyncHyperband(SPACE, max_t=9, **kw), "SyncHyperband"),
        (lambda **kw: core.BOHB(SPACE, max_t=9, **kw), "BOHB"),
        (lambda **kw: core.ASHA(SPACE, type="stopping", max_t=9, **kw), "ASHA"),
        (
            lambda **kw: core.AsyncHyperband(SPACE, type="promotion", max_t=9, **kw),
            "AsyncHyperband",
        ),
        (lambda **kw: core.AsyncBOHB(SPACE, type="promotion", max_t=9, **kw), "AsyncBOHB"),
    ],
)
def test_an_unknown_argument_is_one_line_naming_the_class_and_what_it_takes(build, name):
    """Another library's name for an argument gets ashasim's; a typo gets the list."""
    with pytest.raises(TypeError) as refused:
        build(eta=3)
    message = str(refused.value)
    # random search has no reduction factor to point to
    hint = "" if name == "RandomSearch" else " (did you mean reduction_factor?)"
    assert message.startswith(f"{name}(): unknown argument eta{hint}; it takes ")
    assert "\n" not in message and "max_t" in message and "seed" in message
    with pytest.raises(TypeError, match=rf"^{name}\(\): unknown argument sede; it takes .*seed"):
        build(sede=1)
