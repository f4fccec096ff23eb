"""ashasim.studies.pool: studies' tasks in order, alone or sharing one pool."""

import os
import threading

from ashasim.studies.pool import run_all, run_concurrently


def _task(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def _study(values: list[int], processes: int | None) -> list[tuple[int, int]]:
    return run_all(_task, values, processes=processes)


def test_run_all_keeps_the_tasks_order_in_a_pool_and_in_process():
    values = list(range(12))
    for processes in (1, 2):
        assert [square for square, _ in _study(values, processes)] == [v * v for v in values]
    assert {pid for _, pid in _study(values, 1)} == {os.getpid()}


def test_studies_run_at_once_over_one_shared_pool_with_each_result_in_its_place():
    """Three studies from three threads: each gets its own results in its tasks' order, and
    all their tasks ran in the same two processes (one pool), none in this one."""
    studies = [list(range(8)), list(range(100, 105)), list(range(7, 3, -1))]
    calls = [lambda values=values: _study(values, 2) for values in studies]
    drawn = []
    results = run_concurrently(calls, 2, meanwhile=lambda: drawn.append(threading.get_ident()))
    assert [[square for square, _ in result] for result in results] == [
        [v * v for v in values] for values in studies
    ]
    pids = {pid for result in results for _, pid in result}
    assert len(pids) <= 2 and os.getpid() not in pids
    assert drawn == [threading.get_ident()]  # figures are drawn in the calling thread


def test_with_one_process_everything_runs_here_one_after_the_other():
    order = []
    calls = [lambda: order.append("a") or _study([1, 2], 1), lambda: order.append("b") or []]
    results = run_concurrently(calls, 1, meanwhile=lambda: order.append("figures"))
    assert order == ["figures", "a", "b"]
    assert [square for square, _ in results[0]] == [1, 4]
    assert {pid for _, pid in results[0]} == {os.getpid()}
