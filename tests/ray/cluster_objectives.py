"""Objectives for the multi-node tests: they record, in their checkpoints, the Ray node each
epoch ran on and how many epochs were really trained."""

from __future__ import annotations

import time

from ashasim.run import Reporter, checkpoint
from tests.run.objectives import curve

EPOCH_SECONDS = 0.2


def on_nodes(x: float, max_epochs: int) -> None:
    import ray

    report = Reporter()
    state = checkpoint.load() or {"epoch": 0, "trained": 0, "nodes": []}
    node = ray.get_runtime_context().get_node_id()
    for epoch in range(state["epoch"] + 1, max_epochs + 1):
        time.sleep(EPOCH_SECONDS)
        state = {
            "epoch": epoch,
            "trained": state["trained"] + 1,
            "nodes": [*state["nodes"], node],
        }
        checkpoint.save(state)  # before the report: the milestone report ends the job
        report(epoch=epoch, loss=curve(x, epoch))
