"""Checkpoints without a shared disk: a location given as a path or a URI, checked at start-up
from every worker; a checkpoint a worker cannot find is an error unless ``retrain_on_miss``; and
the objective's own modules shipped by value (nodes need only its packages)."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import textwrap
import uuid

import fsspec
import pytest

from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported
from ashasim.run import StoppingCriterion, Tuner
from ashasim.run.context import JobContext, JobSpec, reset_context, set_context
from ashasim.run.messages import Fatal
from ashasim.run.preflight import StorageError
from ashasim.run.storage import Store
from ashasim.run.worker import dumps_objective, serve, shipped_modules
from tests.run.faults import SPACE, epoch_seconds, scheduler_for
from tests.run.objectives import forgets_checkpoints, with_checkpoint


def tuner(directory, objective=with_checkpoint, backend="fake", **options):
    backend_options = {"epoch_seconds": epoch_seconds} if backend == "fake" else None
    return Tuner(
        objective,
        SPACE,
        scheduler_for("sync-sh", max_trials=9),
        2,
        devices="cpu",
        backend=backend,
        backend_options=backend_options,
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        max_failures=None,
        **options,
    )


def failures(trace) -> list[JobEnded]:
    return [e for e in trace.events if type(e) is JobEnded and e.reason == "failed"]


def test_checkpoints_go_to_a_uri_and_promoted_trials_resume_from_there(tmp_path):
    location = f"memory://ashasim-{uuid.uuid4().hex}"
    trace = tuner(tmp_path / "run", checkpoint_storage=location).run()
    assert not failures(trace)
    fs = fsspec.filesystem("memory")
    promoted = {s.trial_id for s in trace.segments if s.resume_from > 0}
    assert promoted
    for trial_id in promoted:  # the newest checkpoint of each promoted trial is in the store
        names = fs.ls(f"{location}/trial_{trial_id}", detail=False)
        assert any(name.endswith(".pt") for name in names)
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert not fs.exists(f"{location}/.ashasim-probe") or not fs.ls(f"{location}/.ashasim-probe")


@pytest.mark.slow
def test_a_location_a_worker_cannot_read_refuses_the_run_before_anything_is_written(tmp_path):
    """memory:// is per process: spawned workers do not see what the driver wrote there."""
    run = tuner(tmp_path / "run", backend="local", checkpoint_storage="memory://not-shared")
    with pytest.raises(StorageError) as refused:
        run.run()
    message = str(refused.value)
    assert "\n" not in message
    assert "memory://not-shared is not shared with every worker" in message
    assert "cannot read what the driver wrote there" in message and "host " in message
    assert not (tmp_path / "run" / JOURNAL).exists()


def test_a_missing_checkpoint_fails_the_job_unless_retrain_on_miss(tmp_path):
    strict = tuner(tmp_path / "strict", objective=forgets_checkpoints).run()
    failed = failures(strict)
    assert failed and all("CheckpointMissingError" in e.error for e in failed)
    assert "is not shared by the workers" in failed[0].error
    lenient = tuner(tmp_path / "lenient", objective=forgets_checkpoints, retrain_on_miss=True)
    assert not failures(lenient.run())


@pytest.mark.parametrize("deleted", [False, True])
def test_a_checkpoint_deleted_before_a_resume_is_missing_as_during_a_run(tmp_path, deleted):
    """Which checkpoints a trial saved is journaled with its reports, so a resumed run knows it
    too: a paused trial's checkpoint deleted before the resume fails its promoted job (as a
    checkpoint lost during a run does) instead of retraining it from epoch 0 unnoticed."""
    whole = tuner(tmp_path / "whole").run()
    promoted = next(e for e in whole.events if type(e) is JobStarted and e.resume_from > 0)
    directory = tmp_path / "run"
    cut = tuner(directory, stop=StoppingCriterion(max_wallclock_time=promoted.t - 1e-6)).run()
    assert not any(type(e) is JobStarted and e.resume_from > 0 for e in cut.events)
    assert any(type(e) is Reported and e.checkpoint for e in cut.events)
    if deleted:
        shutil.rmtree(directory / "checkpoints" / f"trial_{promoted.trial_id}")
    resumed = Tuner.resume(directory, quiet=True, outputs=False, stop=StoppingCriterion())
    failed = {e.trial_id: e.error for e in failures(resumed)}
    if not deleted:
        assert failed == {}
        return
    assert list(failed) == [promoted.trial_id]
    assert "CheckpointMissingError" in failed[promoted.trial_id]
    assert f"checkpoint at epoch={promoted.resume_from} is not in" in failed[promoted.trial_id]


def test_an_objective_that_never_checkpoints_retrains_without_an_error(tmp_path):
    from tests.run.objectives import quadratic

    assert not failures(tuner(tmp_path / "run", objective=quadratic).run())


def test_store_writes_reads_and_renames_on_a_path_and_a_uri(tmp_path):
    for location in (str(tmp_path / "folder"), f"memory://store-{uuid.uuid4().hex}"):
        store = Store(location)
        assert store.names() == []
        store.write("a", b"1")
        store.rename("a", "b")
        assert store.names() == ["b"] and store.read("b") == b"1" and not store.exists("a")
        store.remove("b")
        assert store.names() == []


@pytest.mark.parametrize("bad", [3, "", "nosuchprotocol://x"])
def test_checkpoint_storage_is_checked(tmp_path, bad):
    with pytest.raises(ValueError, match="checkpoint_storage"):
        tuner(tmp_path / "run", checkpoint_storage=bad)


@pytest.fixture
def driver_only_module(tmp_path, monkeypatch):
    """A module (and a helper beside it) only this process can import: a folder on its path."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "helper_beside.py").write_text("def scale(x):\n    return 10 * x\n")
    (folder / "only_here.py").write_text(
        textwrap.dedent(
            """
            from helper_beside import scale

            def objective(x):
                return scale(x) + 1
            """
        )
    )
    monkeypatch.syspath_prepend(str(folder))
    import only_here

    yield only_here
    for name in ("only_here", "helper_beside"):
        sys.modules.pop(name, None)


def test_the_objective_s_modules_travel_by_value(driver_only_module):
    shipped = {module.__name__ for module in shipped_modules(driver_only_module.objective)}
    assert shipped == {"only_here", "helper_beside"}
    data = dumps_objective(driver_only_module.objective, ship=True)
    code = "import pickle, sys; print(pickle.loads(sys.stdin.buffer.read())(4))"
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    assert done.stdout.strip() == b"41"  # loaded where neither module exists
    by_reference = dumps_objective(driver_only_module.objective)
    failed = subprocess.run([sys.executable, "-c", code], input=by_reference, capture_output=True)
    assert b"No module named 'only_here'" in failed.stderr


def test_ashasim_and_installed_packages_are_never_shipped():
    from ashasim.training.fashion_mnist import objective

    assert shipped_modules(objective) == []
    assert shipped_modules(pickle.dumps) == []


class _Channel:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)

    def recv(self):
        raise EOFError


def test_a_worker_that_cannot_load_the_objective_names_the_module_and_its_host(
    driver_only_module,
):
    data = dumps_objective(driver_only_module.objective)  # by reference
    sys.modules.pop("only_here")
    sys.path.remove(next(p for p in sys.path if p.endswith("mine")))
    channel = _Channel()
    serve(channel, data)
    (fatal,) = channel.sent
    assert type(fatal) is Fatal and fatal.where.startswith("host ")
    assert "no module 'only_here' on this node" in fatal.summary
    assert "must be installed on every node" in fatal.summary


def test_the_reporter_tells_the_driver_when_a_checkpoint_was_filed(tmp_path):
    from ashasim.run import Reporter, checkpoint

    class Replies(_Channel):
        def recv(self):
            return "continue"

    channel = Replies()
    spec = JobSpec(1, {}, 0, 3, str(tmp_path / "trial_1"))
    token = set_context(JobContext(spec, channel))
    try:
        report = Reporter()
        report(epoch=1, loss=0.5)
        checkpoint.save({"epoch": 2})
        report(epoch=2, loss=0.4)
    finally:
        reset_context(token)
    assert [m.saved for m in channel.sent] == [False, True]
