"""The live server: read-only, four routes, nothing outside the run directories, loopback only."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ashasim.cli import build_parser
from ashasim.cli import main as cli_main
from ashasim.dashboard import RunSet, find_runs, make_server
from ashasim.dashboard.server import DashboardServer


@pytest.fixture
def server(finished_runs) -> Iterator[DashboardServer]:
    running = make_server(RunSet(find_runs([finished_runs["root"]])), port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def _get(server: DashboardServer, path: str, *, method: str = "GET", host: str | None = None):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    headers = {} if host is None else {"Host": host}
    connection.putrequest(method, path, skip_host=host is not None, skip_accept_encoding=True)
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_the_page_the_bundle_and_the_runs_are_served(server):
    status, page = _get(server, "/")
    assert status == 200 and b'<script src="plotly.min.js">' in page
    status, bundle = _get(server, "/plotly.min.js")
    assert status == 200 and b"plotly.js" in bundle[:200]
    status, body = _get(server, "/api/runs")
    runs = json.loads(body)["runs"]
    assert [run["name"] for run in runs] == ["asha", "sync-sh"]
    assert all(run["gantt"]["n_workers"] == 3 for run in runs)


def test_an_unchanged_run_set_answers_in_one_line(server):
    _, body = _get(server, "/api/runs")
    versions = ",".join(str(run["version"]) for run in json.loads(body)["runs"])
    assert _get(server, f"/api/runs?versions={versions}") == (200, b'{"unchanged":true}')
    assert json.loads(_get(server, "/api/runs?versions=0,0")[1])["runs"]


TRAVERSALS = [
    "/journal.jsonl",
    "/asha/journal.jsonl",
    "/../asha/journal.jsonl",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/api/runs/../../asha/journal.jsonl",
    "/api/../asha/summary.json",
    "//etc/passwd",
    "/plotly.min.js/../../asha/journal.jsonl",
    "/static/../../../etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_reaches_a_file(server, finished_runs, path):
    status, body = _get(server, path)
    assert status == 404
    journal = (finished_runs["asha"] / "journal.jsonl").read_bytes()
    assert journal[:40] not in body and b"root:" not in body


def test_the_server_writes_nothing_and_accepts_no_writes(server, finished_runs):
    def snapshot() -> dict[str, tuple[int, int]]:
        return {
            str(path): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in Path(finished_runs["root"]).rglob("*")
        }

    before = snapshot()
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert _get(server, "/api/runs", method=method)[0] == 501
    _get(server, "/api/runs")
    assert snapshot() == before


def test_requests_naming_another_host_are_refused(server):
    """A page elsewhere whose DNS name was rebound to 127.0.0.1 cannot read the runs."""
    port = server.server_address[1]
    assert _get(server, "/api/runs", host=f"attacker.example:{port}")[0] == 403
    assert _get(server, "/api/runs", host=f"localhost:{port}")[0] == 200
    assert _get(server, "/api/runs", host=f"127.0.0.1:{port}")[0] == 200


def test_nothing_in_a_run_directory_is_run(tmp_path: Path, finished_runs):
    """A run directory holding Python files (or a planted module) is only ever read as data."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "journal.jsonl").write_bytes((finished_runs["asha"] / "journal.jsonl").read_bytes())
    marker = tmp_path / "ran"
    for name in ("__init__.py", "conftest.py", "sitecustomize.py", "plotly.py"):
        (run / name).write_text(f"open({str(marker)!r}, 'w').close()\n")
    views = RunSet(find_runs([run])).views()
    assert views[0]["summary"]["n_workers"] == 3
    assert not marker.exists()


def test_binds_to_loopback_by_default(finished_runs):
    args = build_parser().parse_args(["dashboard", str(finished_runs["root"])])
    assert args.host == "127.0.0.1"
    server = make_server(RunSet(find_runs([finished_runs["root"]])), port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_dashboard_usage_errors_exit_2(tmp_path: Path, capsys):
    assert cli_main(["dashboard", str(tmp_path / "missing")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert cli_main(["dashboard", str(tmp_path), "--port", "70000"]) == 2
    assert "--port must be in 0..65535" in capsys.readouterr().err


def test_a_port_in_use_is_a_one_line_error(finished_runs, capsys):
    taken = make_server(RunSet([]), port=0)
    try:
        port = str(taken.server_address[1])
        assert cli_main(["dashboard", str(finished_runs["asha"]), "--port", port]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "in use" in err.lower()
    finally:
        taken.server_close()


def test_find_runs_looks_into_folders_of_runs(finished_runs, tmp_path: Path):
    runs = find_runs([finished_runs["root"], finished_runs["asha"] / "journal.jsonl", tmp_path])
    # the ASHA journal, given twice, is shown once
    assert [name for name, _ in runs] == ["asha", "sync-sh", os.path.basename(tmp_path)]
    assert runs[-1][1] == tmp_path / "journal.jsonl"  # not there yet: followed once it appears


def test_a_run_that_breaks_reports_its_error_as_a_change(tmp_path: Path, finished_runs):
    """The page redraws only when a version moves: an error must move it, or it is never shown."""
    run = tmp_path / "run"
    run.mkdir()
    lines = (finished_runs["asha"] / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (run / "journal.jsonl").write_bytes(b"".join(lines[:5]))
    runs = RunSet(find_runs([run]))
    before = runs.views()[0]
    with open(run / "journal.jsonl", "ab") as handle:
        handle.write(b"garbage\n")
    after = runs.views()[0]
    assert after["version"] != before["version"]
    assert "journal.jsonl:6: not a journal event" in after["error"]
    assert after["summary"] == before["summary"]  # what was read before stays on the page


def test_runs_with_the_same_name_get_distinct_names(finished_runs, tmp_path: Path):
    for parent in ("a", "b"):
        run = tmp_path / parent / "run"
        run.mkdir(parents=True)
        (run / "journal.jsonl").write_bytes((finished_runs["asha"] / "journal.jsonl").read_bytes())
    runs = find_runs([tmp_path / "a" / "run", tmp_path / "b" / "run", tmp_path / "a" / "run"])
    assert [name for name, _ in runs] == ["a/run", "b/run"]
