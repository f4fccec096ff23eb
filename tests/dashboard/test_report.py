"""ashasim report: the live page's data, in one HTML file that needs nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ashasim.cli import main as cli_main
from ashasim.dashboard import RunSet, find_runs, write_report
from ashasim.events import JOURNAL, load_experiment


def embedded_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="ashasim-data">(.*?)</script>', html)
    assert found, "the report embeds its data"
    return json.loads(found.group(1))


def test_the_report_holds_what_the_live_page_gets(finished_runs, tmp_path: Path):
    out = write_report([finished_runs["root"]], tmp_path / "report.html")
    data = embedded_data(out.read_text(encoding="utf-8"))
    live = RunSet(find_runs([finished_runs["root"]])).views()
    assert data["live"] is False
    assert json.dumps(data["runs"]) == json.dumps(live)
    for run in data["runs"]:
        trace = load_experiment(finished_runs[run["name"]])
        assert run["summary"]["jobs"] == len(trace.segments)
        assert run["summary"]["best_metric"] == trace.best.metric


def test_the_report_opens_offline(finished_runs, tmp_path: Path):
    """Everything inline: no script, style or image is fetched from anywhere."""
    html = write_report([finished_runs["asha"]], tmp_path / "r.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc=", html)
    assert not re.search(r"<link[^>]*stylesheet", html)
    assert "plotly.js v" in html  # the bundle itself
    assert "Plotly.react" in html


def test_report_command(finished_runs, tmp_path: Path, capsys):
    out = tmp_path / "both.html"
    assert (
        cli_main(
            ["report", str(finished_runs["sync-sh"]), str(finished_runs["asha"]), "-o", str(out)]
        )
        == 0
    )
    assert f"wrote {out}" in capsys.readouterr().out
    names = [run["name"] for run in embedded_data(out.read_text(encoding="utf-8"))["runs"]]
    assert names == ["sync-sh", "asha"]


def test_report_usage_errors_exit_2_in_one_line(tmp_path: Path, capsys, finished_runs):
    assert cli_main(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["report", str(empty), "-o", str(tmp_path / "r.html")]) == 2
    assert "no journal" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / JOURNAL).write_text("not a journal\n")
    assert cli_main(["report", str(broken), "-o", str(tmp_path / "r.html")]) == 2
    assert "journal.jsonl:1" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_without_plotly_the_commands_say_what_to_install(
    monkeypatch, finished_runs, tmp_path, capsys
):
    from ashasim.dashboard import page

    page.plotly_bundle.cache_clear()
    monkeypatch.setattr(page.importlib.util, "find_spec", lambda name: None)
    try:
        out = tmp_path / "r.html"
        assert cli_main(["report", str(finished_runs["asha"]), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "pip install 'ashasim[dashboard]'" in err
        assert cli_main(["dashboard", str(finished_runs["asha"]), "--port", "0"]) == 2
        assert "ashasim[dashboard]" in capsys.readouterr().err
    finally:
        page.plotly_bundle.cache_clear()
