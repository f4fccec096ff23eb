"""Multi-node Ray: a ``ray.cluster_utils.Cluster`` with a head of 0 CPUs and two worker nodes of
one CPU each, so every actor lands on a worker node. One cluster for the module (a start costs
seconds); the last test replaces it with one on a new address."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip(
    "ray", reason="the ray extra is not installed (pip install 'ashasim[ray]')"
)
from ray.cluster_utils import Cluster  # noqa: E402

import ashasim.run.real_run as real_run  # noqa: E402
from ashasim.events import JOURNAL, JobEnded, load_experiment  # noqa: E402
from ashasim.run import RunError, Tuner, checkpoint  # noqa: E402
from ashasim.run.preflight import StorageError  # noqa: E402
from ashasim.run.worker import dumps_objective  # noqa: E402
from ashasim.space import space_to_json  # noqa: E402
from tests.ray import cluster_objectives  # noqa: E402
from tests.run.faults import (  # noqa: E402
    SPACE,
    epoch_seconds,
    replay_run_directory,
    results,
    scheduler_for,
)
from tests.run.objectives import with_checkpoint  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_cluster() -> Cluster:
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "gcs_server_port": free_port(), "include_dashboard": False},
    )
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture(scope="module")
def cluster():
    holder = {"cluster": start_cluster()}
    ray.init(address=holder["cluster"].address, log_to_driver=False)
    yield holder
    ray.shutdown()
    holder["cluster"].shutdown()


def two_worker_nodes(cluster: Cluster) -> None:
    """Back to two live worker nodes after a test removed one."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()


def tuner(directory, address, max_trials=9, **options):
    return Tuner(
        cluster_objectives.on_nodes,
        SPACE,
        scheduler_for("sync-sh", max_trials=max_trials),
        2,
        devices="cpu",
        backend="ray",
        ray_address=address,
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        max_failures=None,
        **options,
    )


def uninterrupted(directory, max_trials=9):
    """The same run on the in-process backend: the results every cluster run must end with."""
    return Tuner(
        with_checkpoint,
        SPACE,
        scheduler_for("sync-sh", max_trials=max_trials),
        2,
        backend="fake",
        backend_options={"epoch_seconds": epoch_seconds},
        experiment_dir=directory,
        quiet=True,
        outputs=False,
    ).run()


def final_states(directory: Path) -> dict[int, dict]:
    states = {}
    for folder in sorted((directory / "checkpoints").glob("trial_*")):
        files = sorted(folder.glob("resource_*.pt"), key=lambda p: int(p.stem.split("_")[1]))
        if files:
            states[int(folder.name.split("_")[1])] = checkpoint.read(files[-1])
    return states


def test_actors_run_on_worker_nodes_and_promoted_trials_resume_across_them(cluster, tmp_path):
    """27 trials, 12 promotions: some promoted trial continues on the other node."""
    trace = tuner(tmp_path / "run", cluster["cluster"].address, max_trials=27).run()
    assert results(trace) == results(uninterrupted(tmp_path / "fake", max_trials=27))
    head = cluster["cluster"].head_node.node_id
    workers = {node.node_id for node in cluster["cluster"].worker_nodes}
    states = final_states(tmp_path / "run")
    seen = {node for state in states.values() for node in state["nodes"]}
    assert seen <= workers and head not in seen
    for state in states.values():  # promoted trials continued from their checkpoints
        assert state["trained"] == state["epoch"]
    assert any(len(set(state["nodes"])) == 2 for state in states.values()), (
        "no promoted trial moved to the other node"
    )
    replay_run_directory(tmp_path / "run")


def run_in_thread(run):
    box: dict = {}

    def target():
        try:
            box["trace"] = run.run()
        except BaseException as error:  # surfaced by the test
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def wait_for_reports(journal: Path, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"reported"') >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} reports in {journal} after {timeout} s")


def wait_for_busy_workers(journal: Path, n_workers: int, timeout: float = 120.0) -> None:
    """Until every worker's last journaled event is a job start that a report followed on no
    worker since: each is then in the middle of a job (a milestone report is journaled only when
    its job ends, so counting reports alone does not say a worker is busy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last: dict[int, str] = {}
        for line in journal.read_text().splitlines()[1:] if journal.exists() else []:
            try:
                event = json.loads(line)
            except ValueError:  # a line being written
                continue
            if "worker" in event:
                last[event["worker"]] = event["event"]
        if len(last) == n_workers and all(kind == "job_started" for kind in last.values()):
            return
        time.sleep(0.02)
    raise AssertionError(f"the {n_workers} workers were never all in a job in {journal}")


@pytest.mark.parametrize("graceful", [True, False], ids=["removed", "sigkilled"])
def test_a_lost_node_s_trials_are_retried_on_the_surviving_node(cluster, tmp_path, graceful):
    two_worker_nodes(cluster["cluster"])
    run = tuner(tmp_path / "run", cluster["cluster"].address, max_retries=2)
    thread, box = run_in_thread(run)
    wait_for_reports(tmp_path / "run" / JOURNAL, 3)  # the run is well under way
    wait_for_busy_workers(tmp_path / "run" / JOURNAL, 2)  # each node is in a job's middle
    lost = next(iter(cluster["cluster"].worker_nodes))
    cluster["cluster"].remove_node(lost, allow_graceful=graceful)
    thread.join(timeout=300)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    trace = box["trace"]
    ends = [e for e in trace.events if type(e) is JobEnded]
    assert [e for e in ends if e.reason == "retried"], "the lost node ran no job"
    assert not [e for e in ends if e.reason == "failed"]
    assert results(trace) == results(uninterrupted(tmp_path / "fake"))  # 0 lost, 0 twice
    for state in final_states(tmp_path / "run").values():
        assert state["trained"] == state["epoch"]  # retried from checkpoints, not from scratch
    replay_run_directory(tmp_path / "run")
    two_worker_nodes(cluster["cluster"])


def test_an_objective_only_the_driver_can_import_runs_on_the_cluster(
    cluster, tmp_path, monkeypatch
):
    """Its module is imported here, then its folder removed: no node can import it (Ray puts
    the driver's sys.path on the workers', which on real machines names folders they lack).
    Shipped by value it runs; by reference the run stops naming the module and the node."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "driver_only.py").write_text(
        "from tests.ray.cluster_objectives import on_nodes\n\n"
        "def objective(x, max_epochs):\n"
        "    on_nodes(x, max_epochs)\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    import driver_only

    shutil.rmtree(folder)

    def run(name):
        return Tuner(
            driver_only.objective,
            SPACE,
            scheduler_for("random", max_trials=2),
            2,
            devices="cpu",
            backend="ray",
            ray_address=cluster["cluster"].address,
            experiment_dir=tmp_path / name,
            quiet=True,
            outputs=False,
        ).run()

    try:
        assert len(run("shipped").results) == 2 * 9
        monkeypatch.setattr(real_run, "dumps_objective", lambda o, ship: dumps_objective(o))
        with pytest.raises(RunError, match=r"on host .* \(Ray node .*no module 'driver_only'"):
            run("by-reference")
    finally:
        sys.modules.pop("driver_only", None)


def test_a_checkpoint_location_a_worker_cannot_reach_refuses_the_run(cluster, tmp_path):
    run = tuner(tmp_path / "run", cluster["cluster"].address, checkpoint_storage="memory://x")
    with pytest.raises(StorageError, match=r"not shared with every worker.*Ray node"):
        run.run()
    assert not (tmp_path / "run" / JOURNAL).exists()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ashasim", "tune", *args]


def test_a_killed_driver_resumes_on_a_restarted_cluster_at_a_new_address(cluster, tmp_path):
    two_worker_nodes(cluster["cluster"])
    old = cluster["cluster"].address
    space = tmp_path / "space.json"
    space.write_text(json.dumps(space_to_json(SPACE)))
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ladder = ["--scheduler", "sync-sh", "--overlap", "none", "--max-t", "9"]
    ladder += ["--grace-period", "1", "--eta", "3", "--seed", "4", "--metric", "loss"]
    driver = subprocess.Popen(
        cli(
            "--objective",
            "tests.ray.cluster_objectives:on_nodes",
            "--space",
            str(space),
            *ladder,
            "--workers",
            "2",
            "--max-trials",
            "9",
            "--devices",
            "cpu",
            "--backend",
            "ray",
            "--ray-address",
            old,
            "--max-retries",
            "1",
            "--out",
            str(out),
            "--quiet",
        ),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_reports(out / JOURNAL, 6)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    # the cluster goes down; a new one comes up elsewhere
    ray.shutdown()
    cluster["cluster"].shutdown()
    journal = (out / JOURNAL).read_bytes()
    refused = subprocess.run(
        cli("--resume", str(out), "--quiet"), cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert refused.returncode == 2, refused.stderr
    assert b"cannot reach the Ray cluster at " + old.encode() in refused.stderr
    assert (out / JOURNAL).read_bytes() == journal  # nothing written
    cluster["cluster"] = start_cluster()
    ray.init(address=cluster["cluster"].address, log_to_driver=False)
    new = cluster["cluster"].address
    assert new != old
    resumed = subprocess.run(
        cli("--resume", str(out), "--ray-address", new, "--quiet"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    trace = load_experiment(out)
    assert results(trace) == results(uninterrupted(tmp_path / "fake"))
    replay_run_directory(out)
