"""Every code block of README.md and docs/ runs as written, or says why it cannot (examples that
rot mislead); the study pages quote the tables ``ashasim reproduce`` writes; links resolve."""

from __future__ import annotations

import ast
import re

import pytest

from tests.docs_blocks import DATA, DOCS, ROOT, RUNNABLE, blocks, page_name, pages, run_page

pytestmark = pytest.mark.timeout(900)

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _page_params():
    params = []
    for page in pages():
        found = [block for block in blocks(page) if block.runs]
        if found:
            slow = [pytest.mark.slow] if any(block.slow for block in found) else []
            params.append(pytest.param(page, id=page_name(page), marks=slow))
    return params


@pytest.mark.parametrize("page", _page_params())
def test_every_runnable_block_of_the_page_runs(page, tmp_path_factory):
    ran = run_page(page, tmp_path_factory)
    assert len(ran.outputs) == sum(block.runs for block in blocks(page))


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_block_is_run_or_says_why(page):
    for block in blocks(page):
        assert block.language in RUNNABLE | DATA, f"{block.where}: language {block.language!r}"
        reason = block.no_run_reason
        assert reason is None or len(reason) > 10, f"{block.where}: no-run needs its reason"
        block.code_to_run()  # every small marker's text is in the block
        assert all(path.exists() for path in block.files)  # files markers name repo paths
        if block.language == "python":
            ast.parse(block.code, block.where)  # also the ones not run


def test_markers_are_read():
    """The parser sees the markers these pages rely on (a typo would silently run a block)."""
    readme = blocks(ROOT / "README.md")
    assert [block.no_run_reason is not None for block in readme[:2]] == [True, True]
    cluster = blocks(DOCS / "guides" / "cluster.md")
    assert cluster and all(block.no_run_reason for block in cluster)
    (small,) = [block for block in blocks(DOCS / "guides" / "simulate.md") if block.substitutions()]
    assert "--max-time 120" in small.code_to_run() and "--max-time 1800" in small.code
    (fixtures,) = [block for block in blocks(DOCS / "guides" / "import.md") if block.files]
    assert fixtures.runs and fixtures.files == [ROOT / "tests" / "imports" / "fixtures"]


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_relative_link_and_image_resolves(page):
    """On GitHub as in the site (the site's strict build checks its own pages again)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        path = target.split("#")[0]
        if "://" in target or not path:
            continue
        if not (page.parent / path).exists():
            broken.append(target)
    assert broken == []


STUDY_TABLES = {
    "sync-vs-async.md": "sync_headline.md",
    "paper-measures.md": "paper_measures.md",
    "price-of-asynchrony.md": "asynchrony.md",
}


@pytest.mark.parametrize(("page", "table"), STUDY_TABLES.items())
def test_the_study_tables_are_the_ones_reproduce_wrote(page, table):
    """The study pages quote experiments/figures/*.md (written by ``ashasim reproduce``) row for
    row, so regenerating the figures and forgetting the page fails here."""
    figures = ROOT / "experiments" / "figures"
    rows = [line for line in (figures / table).read_text().splitlines() if line.startswith("|")]
    text = (DOCS / "studies" / page).read_text(encoding="utf-8").splitlines()
    quoted = [line for line in text if line.startswith("|")]
    assert rows and [row for row in rows if row not in quoted] == []


def test_the_searchers_study_quotes_its_table():
    rows = (ROOT / "experiments" / "figures" / "searchers.md").read_text().splitlines()
    rows = [line for line in rows if line.startswith("|")]
    text = (DOCS / "studies" / "searchers.md").read_text(encoding="utf-8").splitlines()
    assert rows and [row for row in rows if row not in text] == []


def test_every_page_is_in_the_site_navigation():
    config = (DOCS / "mkdocs" / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", config, re.M))
    on_disk = {page.relative_to(DOCS).as_posix() for page in pages()[1:]}
    assert on_disk == listed


# -- what particular examples print --------------------------------------------------------------


def test_the_replay_example_prints_what_the_page_says(tmp_path_factory):
    page = DOCS / "guides" / "replay-tables.md"
    ran = run_page(page, tmp_path_factory)
    printed = ran.output_of("Tabular(").splitlines()
    text = page.read_text(encoding="utf-8")
    assert f"It prints `{printed[0]}`" in text
    first = " ".join(text.split("the first result, `")[1].split("`")[0].split())
    assert printed[1] == first
    for name in ("journal.jsonl", "gantt.png", "curves_fidelity.png"):
        assert (ran.directory / "runs" / "lcdb" / name).exists()
    assert "trials     24" in ran.output_of("--out runs/lcdb-cli")


def test_the_searcher_example_builds_what_it_names(tmp_path_factory):
    namespace = run_page(DOCS / "guides" / "searchers.md", tmp_path_factory).namespace
    assert type(namespace["asha_bo"].searcher).__name__ == "GPSearcher"
    assert type(namespace["bohb"].searcher).__name__ == "KDESearcher"
    assert namespace["async_bohb"].searcher.top_fraction == 0.15


@pytest.mark.slow
def test_the_own_objective_resumes_promoted_trials_and_the_cli_runs(tmp_path_factory):
    ran = run_page(DOCS / "guides" / "tune-for-real.md", tmp_path_factory)
    trace = ran.namespace["trace"]
    assert ran.output_of("checkpoint.load()").startswith("best loss ")
    segments = trace.segments
    assert any(job.resume_from > 0 for job in segments), "no promoted trial resumed"
    assert "failed" not in {job.reason for job in segments}  # resumed from their checkpoints
    assert (ran.directory / "runs" / "own" / "gantt.png").exists()  # ashasim plot
    assert (ran.directory / "runs" / "quadratic" / "results.csv").exists()
    replayed = ran.output_of("--out runs/own-replayed")
    assert "sync-sh on replay.csv" in replayed and "trials     12" in replayed


def test_the_chapter_code_reads_its_results(tmp_path_factory):
    ran = run_page(DOCS / "guides" / "coming-from-syne-tune.md", tmp_path_factory)
    assert "validation_error" in ran.output_of("load_experiment(tuner.name)")


def test_bad_command_line_input_is_one_line_and_status_2(tmp_path_factory):
    ran = run_page(DOCS / "reference" / "cli.md", tmp_path_factory)
    assert ran.output_of("--eta 1").strip() == "exit status 2"


def test_the_resume_example_continues_the_run(tmp_path_factory):
    page = DOCS / "guides" / "fault-tolerance.md"
    ran = run_page(page, tmp_path_factory)
    printed = ran.output_of("Experiment.resume(").strip().splitlines()[-1]
    assert f"It prints `{printed}`" in page.read_text(encoding="utf-8")
    first, whole = ran.namespace["first"], ran.namespace["whole"]
    assert set(first.trial_ids) < set(whole.trial_ids)
    assert whole.results[: len(first.results)] == first.results  # kept, not trained again
    retried = ran.output_of("worker_lost").strip()
    assert f"It prints `{retried}`" in page.read_text(encoding="utf-8")
    assert (ran.directory / "runs" / "faults" / "summary.json").is_file()


def test_the_compare_example_writes_its_tables(tmp_path_factory):
    ran = run_page(DOCS / "studies" / "sync-vs-async.md", tmp_path_factory)
    table = (ran.directory / "compare" / "compare.md").read_text(encoding="utf-8")
    for contender in ("sync-sh:top-rung", "sync-sh:always", "asha"):
        assert f"| {contender} |" in table


def test_the_api_reference_covers_every_top_level_name():
    """Each name ``import ashasim`` offers is documented by a module the API page renders (one
    whose ``__all__`` lists it), and the import and dashboard packages have their sections."""
    import importlib

    import ashasim

    text = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    rendered = re.findall(r"^::: (\S+)$", text, re.M)
    exported = {name for module in rendered for name in importlib.import_module(module).__all__}
    missing = [name for name in ashasim.__all__ if name != "__version__" and name not in exported]
    assert missing == []
    assert {"ashasim.experiment", "ashasim.imports", "ashasim.dashboard"} <= set(rendered)


def test_the_framing_example_writes_the_same_files_on_both_clocks(tmp_path_factory):
    ran = run_page(DOCS / "guides" / "experiment.md", tmp_path_factory)
    printed = ran.output_of("asha_on_4_workers").splitlines()
    assert [line.split(":")[0] for line in printed] == ["simulated", "real"]
    assert all(" 32 trials, best " in line for line in printed)  # Stop(trials=32) on both
    for clock in ("sim", "real"):
        for name in ("journal.jsonl", "results.csv", "summary.json", "replay.csv"):
            assert (ran.directory / "runs" / f"asha-{clock}" / name).is_file(), (clock, name)


def test_the_import_example_reads_every_fixture_library(tmp_path_factory):
    ran = run_page(DOCS / "guides" / "import.md", tmp_path_factory)
    for name in ("ray-hyperband", "syne-tune", "optuna-rdb"):
        for written in ("journal.jsonl", "replay.csv", "import.json", "gantt.png"):
            assert (ran.directory / "runs" / name / written).is_file(), (name, written)
    assert "sync-sh on replay.csv" in ran.output_of("--out runs/ray-hyperband-sync-sh")


def test_the_dashboard_example_writes_one_offline_report(tmp_path_factory):
    ran = run_page(DOCS / "guides" / "dashboard.md", tmp_path_factory)
    page = (ran.directory / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!") and "runs/sync-sh" in page and "runs/asha" in page
    assert '<script src="http' not in page  # Plotly inlined: it opens offline
