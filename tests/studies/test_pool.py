"""ashasim.studies.pool: a study's results come back in its tasks' order, pool or not."""

import os

from ashasim.studies.pool import run_all


def _task(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def test_run_all_keeps_the_tasks_order_in_a_pool_and_in_this_process():
    values = list(range(12))
    for processes in (1, 2):
        results = run_all(_task, values, processes=processes)
        assert [square for square, _ in results] == [v * v for v in values]
    assert {pid for _, pid in run_all(_task, values, processes=1)} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in run_all(_task, values, processes=2)}
