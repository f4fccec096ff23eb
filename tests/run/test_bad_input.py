"""Bad input through the API (issue 27, issue 26 item 5): refused in one line naming the
parameter, before anything is written; bounded where a value could exhaust the machine."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import tune
from ashasim.checks import MAX_WORKERS, check_name
from ashasim.core import make_scheduler
from ashasim.events import JobEnded, read_journal
from ashasim.events.journal import (
    MAX_ERROR_CHARS,
    JournalError,
    JournalWriter,
    bounded_error,
)
from ashasim.experiment import Experiment, Fake, Local, Stop
from ashasim.run import Reporter, ResumeError, StoppingCriterion, Tuner
from ashasim.run.context import JobContext, JobSpec, refuse_forked_child
from ashasim.run.signature import check_signature
from ashasim.space import uniform
from tests.run.objectives import quadratic

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 3}


def asha(**options):
    return make_scheduler("asha", SPACE, metric="loss", max_t=3, **options)


def tuner(tmp_path, **options):
    options = {"experiment_dir": tmp_path / "run", "quiet": True, **options}
    return Tuner(quadratic, SPACE, asha(max_trials=3), options.pop("n_workers", 2), **options)


# -- run directories and names ----------------------------------------------------------------


def test_an_experiment_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    for directory in (tmp_path / "afile", tmp_path / "afile" / "below"):
        with pytest.raises(ValueError, match=r"^experiment_dir .* a file, not a directory$"):
            tuner(tmp_path, experiment_dir=directory, backend="fake")
        with pytest.raises(ValueError, match=r"^directory .* a file, not a directory$"):
            Experiment(asha(), 2, stop=Stop(trials=3), directory=directory)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["afile"]


BAD_NAMES = ["../../x", "a/b", "/tmp/x", "..", ".", "", "a\\b", "a\0b", 3]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_that_is_not_one_folder_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    message = r"^name must be a single folder name"
    with pytest.raises(ValueError, match=message):
        tuner(tmp_path, experiment_dir=None, name=name, backend="fake")
    with pytest.raises(ValueError, match=message):
        Experiment(asha(), 2, stop=Stop(trials=3)).run(quadratic, backend=Fake(), name=name)
    with pytest.raises(ValueError, match=message):
        tune.run(lambda config: None, config={"x": 1}, name=name, storage_path=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@given(st.text(min_size=1, max_size=12))
def test_an_accepted_name_is_one_folder_directly_under_the_root(name):
    """Whatever a name holds, the run directory it gives is a child of the root, or it is
    refused."""
    root = Path("/runs")
    try:
        check_name("name", name)
    except ValueError:
        return
    assert (root / name).parent == root
    assert (root / name).name == name


# -- workers ----------------------------------------------------------------------------------


def test_a_worker_count_that_would_exhaust_the_machine_is_refused_at_once(tmp_path):
    message = rf"^n_workers must be an integer in 1\.\.{MAX_WORKERS}, got 1000000000000$"
    for backend in ("local", "fake"):
        with pytest.raises(ValueError, match=message):
            tuner(tmp_path, n_workers=10**12, backend=backend, devices="cpu")
    with pytest.raises(ValueError, match=message):
        Experiment(asha(), 10**12, stop=Stop(trials=3))
    assert not (tmp_path / "run").exists()


# -- the objective against the space ------------------------------------------------------------


def needs_y(x, y, max_epochs):
    pass


def takes_x_only(x):
    pass


def test_an_objective_that_cannot_take_the_space_is_refused_before_the_run(tmp_path):
    with pytest.raises(ValueError, match=r"^objective needs_y\(\) needs parameter 'y'"):
        Tuner(needs_y, SPACE, asha(max_trials=3), 1, backend="fake", experiment_dir=tmp_path / "r")
    with pytest.raises(ValueError, match=r"takes no parameter 'max_epochs' of the search space"):
        Tuner(takes_x_only, SPACE, asha(max_trials=3), 1, backend="fake", experiment_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def function_with(parameters: list[inspect.Parameter]):
    def objective(*args, **kwargs):
        pass

    objective.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return objective


KINDS = [
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.KEYWORD_ONLY,
]


@given(
    params=st.dictionaries(
        st.sampled_from("abcdef"), st.tuples(st.sampled_from(KINDS), st.booleans()), max_size=5
    ),
    kwargs=st.booleans(),
    space=st.sets(st.sampled_from("abcdefg"), max_size=6),
)
def test_the_signature_check_refuses_exactly_the_configs_a_call_would_refuse(params, kwargs, space):
    """``check_signature`` passes exactly when ``objective(**config)`` binds (one keyword per
    name of the space), whatever the parameters' kinds, defaults and ``**kwargs``."""
    ordered = sorted(params.items(), key=lambda item: KINDS.index(item[1][0]))
    parameters = [
        inspect.Parameter(name, kind, default=0 if has_default else inspect.Parameter.empty)
        for name, (kind, has_default) in ordered
    ]
    # a parameter without a default may not follow one with a default (positional ones)
    positional = [p for p in parameters if p.kind is KINDS[0]]
    parameters = [
        *sorted(positional, key=lambda p: p.default is not inspect.Parameter.empty),
        *(p for p in parameters if p.kind is not KINDS[0]),
    ]
    if kwargs:
        parameters.append(inspect.Parameter("rest", inspect.Parameter.VAR_KEYWORD))
    objective = function_with(parameters)
    try:
        inspect.signature(objective).bind(**dict.fromkeys(space, 1))
        binds = True
    except TypeError:
        binds = False
    message = ""
    try:
        check_signature(objective, space)
    except ValueError as error:
        message = str(error)
    assert bool(message) != binds
    assert "\n" not in message


def test_kwargs_takes_every_name_and_an_unreadable_signature_passes():
    check_signature(lambda **config: None, ["a", "b"])
    check_signature(max, ["a"])  # a builtin without a signature: nothing to read, nothing refused


# -- resume -----------------------------------------------------------------------------------


def test_a_resume_raises_the_trial_budget_of_an_asynchronous_scheduler(tmp_path):
    """ASHA's budget only decides when new trials stop coming, so its decisions so far are the
    larger budget's: a resume may raise it. A later resume replays the journal beyond the saved
    budget and adds nothing (the saved stop holds again); a lower budget adds nothing."""
    tuner(tmp_path, backend="fake").run()
    raised = Tuner.resume(tmp_path / "run", stop=StoppingCriterion(max_trials=10), quiet=True)
    assert len(raised.trial_ids) == 10
    again = Tuner.resume(tmp_path / "run", quiet=True)
    assert again.trial_ids == raised.trial_ids
    lower = Tuner.resume(tmp_path / "run", stop=StoppingCriterion(max_trials=2), quiet=True)
    assert lower.trial_ids == raised.trial_ids


def test_a_resume_cannot_raise_the_budget_that_sized_synchronous_brackets(tmp_path):
    sync = make_scheduler("sync-sh", SPACE, metric="loss", max_t=3, max_trials=3)
    Tuner(
        quadratic, SPACE, sync, 2, experiment_dir=tmp_path / "run", quiet=True, backend="fake"
    ).run()
    with pytest.raises(
        ResumeError, match=r"has a budget of 3 trials, which a resume cannot raise"
    ) as error:
        Tuner.resume(tmp_path / "run", stop=StoppingCriterion(max_trials=10), quiet=True)
    assert "SyncSH sizes its brackets by its trial budget" in str(error.value)
    assert "\n" not in str(error.value)


# -- the journal --------------------------------------------------------------------------------


@pytest.mark.damaged_journals
def test_a_deeply_nested_journal_line_is_refused_in_one_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"event": "experiment"}) + "\n" + "[" * 100_000 + "\n")
    with pytest.raises(ValueError, match=r"journal.jsonl:2: not a journal event \(nested too"):
        read_journal(path)
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ValueError, match=r"journal.jsonl:1: not a journal header \(nested too"):
        read_journal(path)


def test_a_journal_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "journal.jsonl").mkdir()
    with pytest.raises(JournalError, match=r"^cannot write the journal .*journal.jsonl: Is a dir"):
        JournalWriter(tmp_path / "journal.jsonl", {})


def test_a_huge_error_message_is_journaled_bounded_with_a_marker(tmp_path):
    path = tmp_path / "journal.jsonl"
    message = "ValueError: " + "0123456789" * 2_000_000 + "\nthe last line"
    writer = JournalWriter(path, {"scheduler": {}})
    writer.write(JobEnded(1.0, 0, 0, 0, "failed", message))
    writer.close()
    assert path.stat().st_size < MAX_ERROR_CHARS + 1000
    _, events = read_journal(path)
    journaled = events[0].error
    assert journaled.startswith("ValueError: 0123456789")
    assert journaled.endswith("\nthe last line")
    assert f"[... {len(message) - MAX_ERROR_CHARS} characters cut" in journaled


@given(st.text(max_size=300), st.integers(2, 100))
def test_bounded_error_keeps_both_ends_and_says_how_much_it_cut(text, limit):
    bounded = bounded_error(text, limit)
    if len(text) <= limit:
        assert bounded == text
        return
    keep = limit // 2
    cut = len(text) - 2 * keep
    assert (
        bounded
        == f"{text[:keep]}\n[... {cut} characters cut from this message ...]\n" + (text[-keep:])
    )


# -- a forked child's report --------------------------------------------------------------------


def forks_then_reports(x: float, max_epochs: int) -> None:
    """Forks at its first epoch; the child reports too (refused, and it ends with status 70),
    and the parent, the worker's own process, goes on reporting as usual."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        if epoch == 1:
            child = os.fork()
            if child == 0:
                report(epoch=epoch, loss=x)
                os._exit(0)  # not reached: the report ends the child
            _, status = os.waitpid(child, 0)
            if os.waitstatus_to_exitcode(status) != 70:
                raise RuntimeError(f"the forked child's report was not refused ({status})")
        report(epoch=epoch, loss=x + 1.0 / epoch)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_report_from_a_forked_child_fails_no_trial(tmp_path):
    """Issue 27: both processes of an objective that forks reported on one line, and two
    healthy trials failed. The child's report is refused; every trial ends as it should."""
    experiment = Experiment(asha(), 2, stop=Stop(trials=3), directory=tmp_path / "run")
    trace = experiment.run(forks_then_reports, backend=Local(devices="cpu"), quiet=True)
    assert {s.reason for s in trace.segments} <= {"milestone", "stopped", "returned"}
    assert len(trace.trial_ids) == 3


def test_the_refusal_names_the_child_and_the_worker(monkeypatch, capsys):
    worker = os.getpid() + 1  # as if this process had been forked from it
    context = JobContext(JobSpec(0, {}, 0, 1), channel=None, pid=worker)  # type: ignore[arg-type]

    def exit_now(status: int) -> None:
        raise SystemExit(status)

    monkeypatch.setattr(os, "_exit", exit_now)
    with pytest.raises(SystemExit, match="70"):
        refuse_forked_child(context)
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"ashasim: report() from process {os.getpid()}, which the objective")
    assert f"forked from its worker (process {worker}), is refused" in line
    refuse_forked_child(JobContext(JobSpec(0, {}, 0, 1), channel=None))  # type: ignore[arg-type]
    refuse_forked_child(None)  # outside a tuner: nothing to refuse
