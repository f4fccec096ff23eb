"""Ray Tune 2's ``tune.get_context()``: what a trainable asks about the trial it runs.

Ray Tune 2 replaced ``tune.get_trial_id()`` and its siblings with the methods of one context
object; both spellings work here and give the same answers (None outside a run, as the plain
functions do).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashasim.tune.session import get_trial_dir, get_trial_id, get_trial_name

__all__ = ["TuneContext", "get_context"]


class TuneContext:
    """The running trial's identity and directories (``tune.get_context()``)."""

    def get_trial_id(self) -> int | None:
        return get_trial_id()

    def get_trial_name(self) -> str | None:
        return get_trial_name()

    def get_trial_dir(self) -> str | None:
        return get_trial_dir()

    def get_experiment_name(self) -> str | None:
        """The experiment directory's name (the trial directories live in it)."""
        trial_dir = get_trial_dir()
        return None if trial_dir is None else Path(trial_dir).parent.name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("get_"):  # Ray Train's ranks and sizes, trial resources, storage
            raise AttributeError(
                f"TuneContext.{name} is not provided (ashasim's context has get_trial_id, "
                f"get_trial_name, get_trial_dir and get_experiment_name)"
            )
        raise AttributeError(name)


def get_context() -> TuneContext:
    return TuneContext()
