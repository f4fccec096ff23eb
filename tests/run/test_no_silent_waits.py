"""No silent waits: workers that cannot be started show on the progress line, and a run with no
worker at all for ``placement_timeout`` seconds stops, resumable; a resume can name another
cluster, which is reached before anything is written."""

from __future__ import annotations

import socket

import pytest

from ashasim.driver import Driver
from ashasim.events import JOURNAL, JobEnded, Trace
from ashasim.run import ResumeError, Tuner
from ashasim.run.backend import WorkerSlot
from ashasim.run.configs import Fake
from ashasim.run.executor import WAIT_NOTICE, Execution, NoWorkersError
from ashasim.run.fake import FakeBackend
from ashasim.run.ray_backend import ClusterUnreachableError, check_reachable
from tests.run.faults import ORDER_FREE, SPACE, epoch_seconds, results, scheduler_for
from tests.run.objectives import with_checkpoint
from tests.run.test_retries import Deaths


class LostNodes(FakeBackend):
    """A cluster that loses its nodes: after the first *placed* starts, no worker can be placed
    any more (started, it never says Ready), as a Ray actor waits for a node that fits."""

    def __init__(self, *args, placed: int, **options) -> None:
        super().__init__(*args, **options)
        self.placed = placed

    def start(self, slot: WorkerSlot, objective: bytes) -> None:
        if self.placed > 0:
            self.placed -= 1
            super().start(slot, objective)


@pytest.fixture
def tuner(fake_tuner):
    """The suite's run on 2 fake workers that die twice (retried), as ``tuner(directory)``."""

    def make(directory, kind="sync-sh", **options):
        deaths = Deaths({(3, 2): 1, (5, 1): 1})
        return fake_tuner(
            with_checkpoint,
            scheduler_for(kind, max_trials=12),
            directory=directory,
            space=SPACE,
            backend_options={"epoch_seconds": epoch_seconds, "dies": deaths},
            outputs=False,
            max_failures=None,
            max_retries=2,
            **options,
        )

    return make


@pytest.mark.parametrize("kind", ORDER_FREE)
def test_a_run_whose_nodes_are_all_gone_stops_and_resumes(tuner, tmp_path, monkeypatch, kind):
    """Both workers die and no replacement can be placed: the run stops at placement_timeout
    (not for ever), its retried jobs waiting in the journal; a resume on a cluster that places
    workers again ends with the uninterrupted run's results."""
    clean = tuner(tmp_path / "clean", kind).run()
    run = tuner(tmp_path / "run", kind, placement_timeout=30.0)

    def lost_nodes(config, slots, resource_attr):
        return LostNodes(
            config.epoch_seconds, placed=2, resource_attr=resource_attr, dies=config.dies
        )

    monkeypatch.setattr(Fake, "build", lost_nodes)
    with pytest.raises(NoWorkersError, match=r"no worker could be started for 30 s"):
        run.run()
    journal = (tmp_path / "run" / JOURNAL).read_text()
    assert '"retried"' in journal
    resumed = Tuner.resume(tmp_path / "run", allow_pickle=True, quiet=True, outputs=False)
    assert results(resumed) == results(clean)
    assert not [e for e in resumed.events if type(e) is JobEnded and e.reason == "failed"]


def test_slow_starts_show_on_the_progress_line():
    scheduler = scheduler_for("asha")
    backend = LostNodes(1.0, placed=1)
    slots = [WorkerSlot(k, "fake", None) for k in range(2)]
    execution = Execution(
        Driver(scheduler, Trace({"n_workers": 2}), 2, idle=()),
        backend,
        slots,
        b"",
        lambda job: None,
        placement_timeout=60.0,
    )
    for slot in slots:
        execution.start_worker(slot.index)
    backend.now = WAIT_NOTICE - 1
    assert execution.waiting_text(execution.now()) == ""
    backend.now = WAIT_NOTICE + 2
    text = execution.waiting_text(execution.now())
    assert "waiting 12.0s for 2 worker(s) to start" in text
    assert "stopping at 1:00 without any" in text
    backend.close()


def test_a_resume_refuses_an_unreachable_cluster_before_writing(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClusterUnreachableError, match=rf"127.0.0.1:{port}.*--ray-address"):
        check_reachable(f"127.0.0.1:{port}", timeout=2.0)
    check_reachable("auto")  # Ray's to resolve


def test_ray_address_is_refused_for_a_run_of_another_backend(tuner, tmp_path):
    tuner(tmp_path / "run").run()
    before = (tmp_path / "run" / JOURNAL).read_bytes()
    with pytest.raises(ResumeError, match="uses the 'fake' backend, not Ray"):
        Tuner.resume(tmp_path / "run", ray_address="127.0.0.1:1", quiet=True, allow_pickle=True)
    assert (tmp_path / "run" / JOURNAL).read_bytes() == before


@pytest.mark.parametrize("bad", [0, -1.0, "soon"])
def test_placement_timeout_is_checked(tuner, tmp_path, bad):
    with pytest.raises(ValueError, match="placement_timeout"):
        tuner(tmp_path / "run", placement_timeout=bad)
