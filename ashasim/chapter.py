"""The chapter-facing façade: the Dive into Deep Learning chapter's (Syne Tune's) names.

The chapter's code runs with only its imports changed::

    from ashasim.chapter import ASHA, PythonBackend, Reporter, StoppingCriterion, Tuner
    from ashasim.chapter import load_experiment, loguniform, randint

These names live here only: ``ashasim.ASHA``, ``ashasim.Tuner`` and ``ashasim.load_experiment``
are the core's, the executor's and the journal's, with ashasim's own arguments and defaults. The
façade translates Syne Tune's names and defaults onto them and holds no logic of its own.

* ``ASHA(config_space, metric=..., mode=..., resource_attr=..., max_resource_attr=...,
  grace_period=..., reduction_factor=..., rung_levels=..., brackets=..., points_to_evaluate=...,
  random_seed=..., type=...)`` maps onto ``ashasim.core.ASHA`` (``brackets`` > 1: asynchronous
  Hyperband, ``ashasim.core.AsyncHyperband``, as in Syne Tune). As in Syne Tune, ``type``
  defaults to ``"stopping"`` (the chapter's code relies on that default, although its figures
  show the promotion type), and r_max comes from the constant that ``max_resource_attr`` names in
  the config space (or ``max_t``). ``rung_levels`` overrides ``grace_period`` and
  ``reduction_factor`` (ignored, with a warning, as Syne Tune logs one); see ``syne_tune_ladder``.
  ``searcher`` takes Syne Tune's names ("random", "grid", "kde", "bayesopt") or a ``Searcher``,
  with ``search_options`` in Syne Tune's names (or ashasim's) and Syne Tune's defaults:
  "bayesopt" is the multi-fidelity GP, as under Syne Tune's ASHA (``ashasim.chapter_search``).
* ``PythonBackend(tune_function=..., config_space=...)`` and ``Tuner(trial_backend=...,
  scheduler=..., stop_criterion=..., n_workers=...)`` map onto ``ashasim.run.Tuner``.
* ``load_experiment(tuner.name)`` returns an ``ExperimentResult`` whose ``results`` is a pandas
  DataFrame (``trial_id``, ``st_tuner_time``, the metric, the resource, the config) and whose
  ``plot()`` draws the best metric so far over time.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.chapter_search import syne_tune_searcher
from ashasim.chapter_tuner import tuner_options
from ashasim.checks import check_rung_levels
from ashasim.core import asha
from ashasim.core.jobs import Scheduler
from ashasim.run import tuner as run_tuner
from ashasim.run.real_run import DEFAULT_ROOT
from ashasim.run.reporter import Reporter
from ashasim.run.tuner import StoppingCriterion
from ashasim.search import Searcher
from ashasim.space import choice, lograndint, loguniform, randint, uniform

__all__ = [
    "ASHA",
    "ExperimentResult",
    "PythonBackend",
    "Reporter",
    "StoppingCriterion",
    "Tuner",
    "choice",
    "load_experiment",
    "lograndint",
    "loguniform",
    "randint",
    "resolve_max_t",
    "syne_tune_ladder",
    "uniform",
]


def resolve_max_t(
    config_space: Mapping[str, Any], max_t: int | None, max_resource_attr: str | None
) -> int:
    """r_max from ``max_t`` or from ``config_space[max_resource_attr]``; both given must agree."""
    if max_resource_attr is None:
        if max_t is None:
            raise ValueError(
                "give max_t, or max_resource_attr naming the constant in config_space that holds it"
            )
        return max_t
    if not isinstance(config_space, Mapping) or max_resource_attr not in config_space:
        names = sorted(config_space) if isinstance(config_space, Mapping) else []
        raise KeyError(
            f"max_resource_attr={max_resource_attr!r} is not in config_space (it has {names})"
        )
    value = config_space[max_resource_attr]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"max_resource_attr={max_resource_attr!r} must name an integer constant >= 1 in "
            f"config_space, found {value!r}"
        )
    if max_t is not None and max_t != value:
        raise ValueError(
            f"max_t={max_t} disagrees with config_space[{max_resource_attr!r}]={value}"
        )
    return value


def syne_tune_ladder(
    grace_period: int | None,
    reduction_factor: int | None,
    rung_levels: Sequence[int] | None,
    max_t: int,
) -> tuple[int | None, int, list[int] | None]:
    """(grace_period, reduction_factor, rung_levels) for ashasim from Syne Tune's arguments.

    Syne Tune keeps the top r_j / r_(j+1) of rung j (r_J = max_t), so explicit ``rung_levels``
    set every rung's quota, and ``grace_period``/``reduction_factor`` are ignored. ashasim keeps
    the top 1/reduction_factor at every rung: the two agree when the levels grow by one integer
    factor up to max_t, which is then the reduction factor; any other ladder is refused in one
    line (ashasim would keep other trials than Syne Tune)."""
    if rung_levels is None:
        return (
            1 if grace_period is None else grace_period,
            3 if reduction_factor is None else reduction_factor,
            None,
        )
    if grace_period is not None or reduction_factor is not None:
        warnings.warn(
            f"rung_levels is given, so grace_period={grace_period} and "
            f"reduction_factor={reduction_factor} are ignored (as in Syne Tune)",
            stacklevel=3,
        )
    levels = list(check_rung_levels("rung_levels", rung_levels, maximum=max_t))
    if levels[-1] == max_t:
        levels.pop()  # Syne Tune strips max_t from the rung levels
    ladder = [*levels, max_t]
    steps = list(itertools.pairwise(ladder))
    factors = {divmod(high, low) for low, high in steps}  # one (factor, 0) when geometric
    factor, remainder = factors.pop()
    if factors or remainder or factor < 2:
        quotas = ", ".join(f"{low}/{high}" for low, high in steps)
        raise ValueError(
            f"rung_levels={list(rung_levels)} with max_t={max_t}: Syne Tune would keep the top "
            f"{quotas} of its rungs; ashasim keeps the same share 1/reduction_factor at every "
            f"rung, so it runs only levels that grow by one integer factor >= 2 up to max_t "
            f"(e.g. {_geometric_example(max_t)})"
        )
    return None, factor, levels


def _geometric_example(max_t: int) -> list[int]:
    """Rung levels growing by 3 (or 2) up to max_t, for an error message."""
    for factor in (3, 2):
        levels: list[int] = []
        level = max_t
        while level % factor == 0 and level // factor >= 1:
            level //= factor
            levels.insert(0, level)
        if levels:
            return levels
    return [1]


class ASHA(asha.ASHA):
    """ASHA with Syne Tune's argument names; see ``ashasim.core.ASHA`` for the rules. With
    ``brackets`` > 1 it is asynchronous Hyperband over that many brackets (as
    ``ashasim.core.AsyncHyperband``), as Syne Tune's ASHA is: still an ``ashasim.core.ASHA``, so
    code that checks for one keeps working, built by the brackets' common base (``ASHA``'s own
    constructor fixes one bracket)."""

    def __init__(
        self,
        config_space: Mapping[str, Any],
        metric: str,
        mode: str = "min",
        resource_attr: str = "epoch",
        max_resource_attr: str | None = None,
        max_t: int | None = None,
        grace_period: int | None = None,
        reduction_factor: int | None = None,
        rung_levels: Sequence[int] | None = None,
        brackets: int = 1,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        random_seed: int = 0,
        type: str = "stopping",  # noqa: A002
        max_trials: int | None = None,
        searcher: str | Searcher = "random",
        search_options: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(searcher, str):
            searcher = syne_tune_searcher(searcher, search_options, config_space)
        elif search_options:
            raise ValueError("search_options go with a searcher given by name")
        r_max = resolve_max_t(config_space, max_t, max_resource_attr)
        r_min, eta, levels = syne_tune_ladder(grace_period, reduction_factor, rung_levels, r_max)
        super(asha.ASHA, self).__init__(
            config_space,
            type=type,
            max_t=r_max,
            grace_period=r_min,
            reduction_factor=eta,
            rung_levels=levels,
            brackets=brackets,
            mode=mode,
            metric=metric,
            resource_attr=resource_attr,
            points_to_evaluate=points_to_evaluate,
            max_trials=max_trials,
            seed=random_seed,
            searcher=searcher,
        )
        self.max_resource_attr = max_resource_attr


class PythonBackend:
    """The chapter's trial backend: an objective function and its config space. Syne Tune's
    ``rotate_gpus=True`` is what ashasim does (workers spread over the GPUs) and
    ``delete_checkpoints=False`` too (a resume needs them); the other values are refused."""

    def __init__(
        self,
        tune_function: Callable[..., Any],
        config_space: Mapping[str, Any],
        rotate_gpus: bool = True,
        delete_checkpoints: bool = False,
    ) -> None:
        if not callable(tune_function):
            raise ValueError(f"tune_function must be a function, got {tune_function!r}")
        if rotate_gpus is not True:
            raise ValueError("rotate_gpus: only True is supported (workers spread over the GPUs)")
        if delete_checkpoints is not False:
            raise ValueError("delete_checkpoints: only False is supported (a resume needs them)")
        self.tune_function = tune_function
        self.config_space = dict(config_space)


class Tuner:
    """``Tuner(trial_backend=..., scheduler=..., stop_criterion=..., n_workers=...)`` as in the
    chapter; ``run()`` tunes and returns the Trace; ``name`` is what ``load_experiment`` takes.

    *print_update_interval*: seconds between plain status lines on stdout (Syne Tune's default, 30;
    they show in notebooks, where the live status line cannot); None keeps the live line only. Syne
    Tune's other arguments (``max_failures``, ``tuner_name``, ...) as ``ashasim.chapter_tuner``
    says; ashasim's own (``devices``, ``workers_per_device``, ``experiment_dir``, ``backend``, ...)
    go to ``ashasim.run.Tuner``.
    """

    def __init__(
        self,
        trial_backend: PythonBackend,
        scheduler: Scheduler,
        stop_criterion: Any,
        n_workers: int,
        print_update_interval: float | None = 30.0,
        **options: Any,
    ) -> None:
        if not isinstance(trial_backend, PythonBackend):
            raise ValueError(f"trial_backend must be a PythonBackend, got {trial_backend!r}")
        self._tuner = run_tuner.Tuner(
            trial_backend.tune_function,
            trial_backend.config_space,
            scheduler,
            n_workers,
            stop=stop_criterion,
            print_every=print_update_interval,
            **tuner_options(scheduler, options),
        )
        self.name = self._tuner.name
        self.experiment_dir = self._tuner.experiment_dir

    def run(self) -> Any:
        return self._tuner.run()


class ExperimentResult:
    """A finished (or interrupted) run, as the chapter uses it: ``results`` and ``plot()``.

    ``trace`` is the full ``ashasim.events.Trace``; its views (segments, summary, ...) are also
    reachable directly on this object.
    """

    def __init__(self, trace: Any) -> None:
        self.trace = trace

    @property
    def results(self) -> Any:
        """A pandas DataFrame, one row per report: trial_id, st_tuner_time, the metric, the
        resource, the config, and the worker."""
        frame = self.trace.to_pandas()
        frame = frame.rename(columns={"t": "st_tuner_time"})
        first = ["trial_id", "st_tuner_time"]
        return frame[first + [c for c in frame.columns if c not in first]]

    def plot(self, **kwargs: Any) -> Any:
        """The best metric so far over time (a matplotlib Figure)."""
        from ashasim.plot import best_so_far

        return best_so_far(self.trace, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "trace":
            raise AttributeError(name)
        return getattr(self.trace, name)

    def __repr__(self) -> str:
        return f"ExperimentResult({self.trace!r})"


def load_experiment(
    tuner_name: str | os.PathLike[str],
    load_tuner: bool = False,
    local_path: str | os.PathLike[str] | None = None,
    experiment_name: str | None = None,
) -> ExperimentResult:
    """A run by its directory, or by the name a Tuner gave it (``tuner.name``), looked up under
    *local_path* (default ``runs/``: Syne Tune's is ``~/syne-tune``). ``load_tuner=True`` and
    ``experiment_name`` (Syne Tune's pickled tuner, its benchmarking folders) are refused."""
    from ashasim.events import load_experiment as load_trace

    if load_tuner is not False:
        raise ValueError("load_tuner: only False is supported (no pickled Tuner is kept)")
    if experiment_name is not None:
        raise ValueError("experiment_name is not supported; give the run's name or directory")
    root = DEFAULT_ROOT if local_path is None else Path(local_path)
    path = Path(tuner_name)
    if not path.exists() and (root / path).exists():
        path = root / path
    return ExperimentResult(load_trace(path))
