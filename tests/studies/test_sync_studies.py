"""The sync-vs-async studies run end to end on tiny settings, and their tables say what they
measured."""

from __future__ import annotations

import math

from ashasim.studies import asynchrony, paper_measures, sync_vs_async
from ashasim.studies.compare import parse_contender
from ashasim.studies.paper_measures import PaperWorkload, Point


def test_contenders_name_their_overlap():
    assert parse_contender("sync-sh:always") == ("sync-sh", {"overlap": "always"})
    assert parse_contender("asha") == ("asha", {})
    assert set(sync_vs_async.CONTENDERS) >= {"sync-sh:none", "sync-sh:top-rung", "sync-sh:always"}


def test_the_sync_vs_async_study_writes_both_tables_and_figures(tmp_path):
    results = sync_vs_async.run(
        workers=(2, 8), seeds=1, max_time=120.0, contenders=("sync-sh:none", "asha"), processes=1
    )
    paths = sync_vs_async.write(tmp_path, results, target=0.3)
    table = paths["table"].read_text()
    costs = paths["costs"].read_text()
    assert "| sync-sh:none |" in table and "| asha |" in costs
    assert (tmp_path / "first_at_top.png").exists() and paths["figure"].exists()
    by_name = {(r.scheduler, r.n_workers, r.setting): r for r in results}
    asha = by_name[("asha", 8, "low variance")]
    sync = by_name[("sync-sh:none", 8, "low variance")]
    assert asha.idle_fraction < sync.idle_fraction
    assert sync.wrong_promotions == 0 and 0 <= asha.wrong_promotions <= asha.promotions
    headline = paths["headline"].read_text().splitlines()
    rows = [line.split(" | ") for line in headline[2:]]
    assert [(r[0].lstrip("| "), r[1], r[2]) for r in rows] == [
        (setting, "8", name)
        for setting in ("low variance", "high variance")
        for name in ("sync-sh:none", "asha")
    ]  # only the headline cluster sizes (2 workers left out), in setting, size, contender order
    idle = {(r[0].lstrip("| "), r[2]): r[3] for r in rows}
    assert idle[("low variance", "asha")] == f"{asha.idle_fraction:.0%}"


def test_the_paper_workload_is_deterministic_and_spreads_trial_speeds():
    epoch = PaperWorkload(spread=1.0).epoch_fn(4)
    again = PaperWorkload(spread=1.0).epoch_fn(4)
    config = {"x": 0.3}
    assert [epoch(t, config, 1) for t in range(5)] == [again(t, config, 1) for t in range(5)]
    slow = [epoch(t, config, 1)[0] for t in range(200)]
    flat = [PaperWorkload(spread=0.0).epoch_fn(4)(t, config, 1)[0] for t in range(200)]
    assert max(slow) / min(slow) > 5 > max(flat) / min(flat)


def test_the_paper_workload_loss_approaches_the_quality_as_one_over_sqrt_r():
    """loss(r) = x + d / sqrt(r) with d = 0.3 * (1 + z) fixed per trial: the loss falls towards x
    when d > 0 and rises towards it when d < 0 (an early rank that flatters), never crossing."""
    epoch = PaperWorkload(spread=1.0).epoch_fn(4)
    x, levels = 0.3, (1, 4, 16, 64, 256)
    signs = set()
    for trial_id in range(60):
        losses = [epoch(trial_id, {"x": x}, r)[1] for r in levels]
        scaled = [(loss - x) * math.sqrt(r) for loss, r in zip(losses, levels, strict=True)]
        d = scaled[0]
        assert all(math.isclose(s, d, rel_tol=1e-12, abs_tol=1e-12) for s in scaled)
        assert losses == sorted(losses, reverse=d > 0)
        assert all((loss - x) * d >= 0 for loss in losses)  # on d's side of x throughout
        signs.add(d > 0)
    assert signs == {True, False}  # both directions occur, so both are checked


def test_paper_measures_tables(tmp_path):
    points = paper_measures.run(
        seeds=1,
        spreads=(0.0, 1.0),
        drops=(0.0, 0.05),
        contenders=("asha", "sync-sh:none"),
        processes=1,
    )
    text = paper_measures.format_tables(points)
    assert "spread 0" in text and "drop p = 0.05" in text and "| asha |" in text
    asha = next(
        p for p in points if p.contender == "asha" and p.axis == "spread" and p.value == 1.0
    )
    sync = next(
        p for p in points if p.contender == "sync-sh:none" and p.axis == "spread" and p.value == 1.0
    )
    assert asha.first_at_top is not None
    assert sync.first_at_top is None or asha.first_at_top <= sync.first_at_top
    assert paper_measures.write(tmp_path, points)["at_top"].exists()


def test_counting_trials_at_the_top_reads_the_step_function():
    point = Point("drop", 0.0, "asha", 0, 5.0, ((5.0, 1), (9.0, 2)))
    assert [paper_measures._count_at(point, t) for t in (1.0, 5.0, 8.0, 100.0)] == [0, 1, 1, 2]


def test_the_price_of_asynchrony_table(tmp_path):
    pairs = asynchrony.run(seeds=1, sweeps={"workers": (4,)}, processes=1)
    (pair,) = pairs
    assert pair.promotions > 0 and 0 <= pair.wrong <= pair.promotions
    assert math.isfinite(pair.best_asha) and math.isfinite(pair.best_sync)
    text = asynchrony.write(tmp_path, pairs)["table"].read_text()
    assert "| workers | 4 |" in text
