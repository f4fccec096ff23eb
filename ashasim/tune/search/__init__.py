"""Ray Tune's search algorithms, by the names users look for, mapped onto ``ashasim.search``.

==================================  ========================================================
Ray Tune                            ashasim
==================================  ========================================================
``BasicVariantGenerator``           ``VariantSearcher``: the ``grid_search`` values swept
                                    ``num_samples`` times, the rest drawn at random
``TuneBOHB``                        ``KDESearcher`` (BOHB's model; with ``HyperBandForBOHB``,
                                    BOHB)
``BayesOptSearch``                  ``GPSearcher`` (GP + expected improvement)
``ConcurrencyLimiter``              caps the number of workers (see the class)
an ashasim ``Searcher``             used as it is
==================================  ========================================================

Like the schedulers, these keep their arguments until ``tune.run`` builds the searcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ashasim.checks import MODES, check_choice, check_int, check_optional_int, check_text
from ashasim.search import GPSearcher, KDESearcher, Searcher, VariantSearcher
from ashasim.search.kde import BOHB_NUM_SAMPLES
from ashasim.tune.refusals import refused_name

__all__ = [
    "BasicVariantGenerator",
    "BayesOptSearch",
    "ConcurrencyLimiter",
    "SearchAlgorithm",
    "TuneBOHB",
    "resolve_search_alg",
]

AVAILABLE = "BasicVariantGenerator, BayesOptSearch, TuneBOHB, ConcurrencyLimiter(...)"


def _concurrency(value: Any) -> int | None:
    """Ray Tune's ``max_concurrent``: 0 means no limit."""
    value = check_int("max_concurrent", value, minimum=0)
    return value or None


class SearchAlgorithm:
    """What the façade's searchers share: metric, mode, points to evaluate, a seed."""

    ray_name = "SearchAlgorithm"
    models = True  # a model-based searcher (no grid_search, one trial per sample)

    def __init__(
        self,
        *,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        max_concurrent: int = 0,
        space: Mapping[str, Any] | None = None,
    ) -> None:
        self.metric = None if metric is None else check_text("metric", metric)
        self.mode = None if mode is None else check_choice("mode", mode, MODES)
        if points_to_evaluate is not None and (
            isinstance(points_to_evaluate, (str, Mapping))
            or not isinstance(points_to_evaluate, Sequence)
        ):
            raise ValueError(
                f"points_to_evaluate must be a list of (partial) configs: {points_to_evaluate!r}"
            )
        self.points_to_evaluate = [dict(p) for p in points_to_evaluate or ()]
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.max_concurrent = _concurrency(max_concurrent)
        if space is not None and not isinstance(space, Mapping):
            raise ValueError(
                f"{self.ray_name}: space must be a dict of tune domains (e.g. "
                f"{{'x': tune.uniform(0, 20)}}), or give the space as tune.run(config=...)"
            )
        self.space = None if space is None else dict(space)

    def make(self, num_samples: int | None) -> Searcher:
        """The ashasim searcher for a run of ``num_samples`` samples (None: no limit)."""
        raise NotImplementedError


class BasicVariantGenerator(SearchAlgorithm):
    """Ray Tune's default: random search, and a sweep over the ``grid_search`` parameters
    (``num_samples`` times over), as ashasim's ``VariantSearcher``. *random_state*: the run's
    seed (else ``tune.run(seed=...)``). ``constant_grid_search=True`` is not supported."""

    ray_name = "BasicVariantGenerator"
    models = False

    def __init__(
        self,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        max_concurrent: int = 0,
        random_state: int | None = None,
        constant_grid_search: bool = False,
    ) -> None:
        super().__init__(
            points_to_evaluate=points_to_evaluate, seed=random_state, max_concurrent=max_concurrent
        )
        if constant_grid_search:
            raise ValueError(
                "constant_grid_search=True is not supported: every trial draws its own "
                "random values"
            )

    def make(self, num_samples: int | None) -> Searcher:
        return VariantSearcher(repeat=num_samples)


# HpBandSter's names (Ray Tune's bohb_config) -> KDESearcher's
_BOHB_OPTIONS = {
    "min_points_in_model": ("min_points", 1),
    "top_n_percent": ("top_fraction", 0.01),
    "num_samples": ("num_samples", 1),
    "random_fraction": ("random_fraction", 1),
    "bandwidth_factor": ("bandwidth_factor", 1),
    "min_bandwidth": ("min_bandwidth", 1),
}


class TuneBOHB(SearchAlgorithm):
    """Ray Tune's BOHB searcher: ashasim's ``KDESearcher`` (good/bad densities per resource
    level). *bohb_config*: HpBandSter's option names (``min_points_in_model``,
    ``top_n_percent``, ``num_samples``, ``random_fraction``, ``bandwidth_factor``,
    ``min_bandwidth``), with HpBandSter's defaults (``num_samples`` 64, where ashasim's own
    ``KDESearcher`` draws 24). Pair it with ``HyperBandForBOHB`` for BOHB proper, or with
    ``ASHAScheduler`` for asynchronous BOHB. A ConfigSpace object as *space* is not supported:
    give tune domains."""

    ray_name = "TuneBOHB"

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        bohb_config: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        max_concurrent: int = 0,
    ) -> None:
        super().__init__(
            metric=metric,
            mode=mode,
            points_to_evaluate=points_to_evaluate,
            seed=seed,
            max_concurrent=max_concurrent,
            space=space,
        )
        self.options: dict[str, Any] = {}
        for key, value in dict(bohb_config or {}).items():
            if key not in _BOHB_OPTIONS:
                raise ValueError(
                    f"bohb_config: unknown option {key!r}; accepted: {sorted(_BOHB_OPTIONS)}"
                )
            name, scale = _BOHB_OPTIONS[key]
            self.options[name] = value * scale if scale != 1 else value

    def make(self, num_samples: int | None) -> Searcher:
        return KDESearcher(**{"num_samples": BOHB_NUM_SAMPLES, **self.options})


class BayesOptSearch(SearchAlgorithm):
    """Ray Tune's Bayesian optimisation: ashasim's ``GPSearcher`` (Matérn 5/2 GP, expected
    improvement). *random_search_steps* (10, Ray Tune's default): random configs before the
    model. *random_state*: the run's seed (else ``tune.run(seed=...)``). Ray's other knobs
    (``utility_kwargs``, ``patience``, ``skip_duplicate``, ``repeat_float_precision``,
    ``analysis``) are not supported:
    the GP always maximises EI and never repeats a running config."""

    ray_name = "BayesOptSearch"

    def __init__(
        self,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        utility_kwargs: Mapping[str, Any] | None = None,
        random_state: int | None = None,
        random_search_steps: int = 10,
        verbose: int = 0,
        patience: int = 5,
        skip_duplicate: bool = True,
        analysis: Any = None,
        repeat_float_precision: int = 5,
    ) -> None:
        super().__init__(
            metric=metric,
            mode=mode,
            points_to_evaluate=points_to_evaluate,
            seed=random_state,
            space=space,
        )
        self.random_search_steps = check_int("random_search_steps", random_search_steps, minimum=1)
        unsupported = {
            "utility_kwargs": utility_kwargs is not None,
            "patience": patience != 5,
            "skip_duplicate": skip_duplicate is not True,
            "analysis": analysis is not None,
            "verbose": verbose != 0,
            "repeat_float_precision": repeat_float_precision != 5,  # (Ray's duplicate check)
        }
        named = [name for name, given in unsupported.items() if given]
        if named:
            raise ValueError(
                f"BayesOptSearch: {', '.join(named)} not supported (ashasim's GP maximises "
                f"expected improvement, never repeats a running config and prints nothing)"
            )

    def make(self, num_samples: int | None) -> Searcher:
        return GPSearcher(random_search_steps=self.random_search_steps)


class ConcurrencyLimiter(SearchAlgorithm):
    """At most *max_concurrent* trials run at once (Ray Tune's ``ConcurrencyLimiter``).

    How: the run gets at most max_concurrent workers, so at most that many jobs (hence trials)
    run at any moment, whatever the scheduler; paused trials (promotion ASHA, HyperBand) do not
    count, as in Ray Tune, where they hold no resources either. Nothing else changes: the
    scheduler and searcher see the same calls as with that many workers. ``batch=True`` is not
    supported.
    """

    ray_name = "ConcurrencyLimiter"

    def __init__(self, searcher: Any, max_concurrent: int, batch: bool = False) -> None:
        if batch:
            raise ValueError("ConcurrencyLimiter(batch=True) is not supported")
        self.searcher = resolve_search_alg(searcher)
        limit = check_int("max_concurrent", max_concurrent, minimum=1)
        inner = self.searcher.max_concurrent
        self.max_concurrent = limit if inner is None else min(limit, inner)
        self.metric, self.mode = self.searcher.metric, self.searcher.mode
        self.points_to_evaluate = self.searcher.points_to_evaluate
        self.seed, self.space = self.searcher.seed, self.searcher.space
        self.models = self.searcher.models
        self.ray_name = f"ConcurrencyLimiter({self.searcher.ray_name})"

    def make(self, num_samples: int | None) -> Searcher:
        return self.searcher.make(num_samples)


class _Given(SearchAlgorithm):
    """An ashasim ``Searcher`` passed as ``search_alg``: used as it is."""

    ray_name = "Searcher"

    def __init__(self, searcher: Searcher) -> None:
        super().__init__()
        self.searcher = searcher
        self.ray_name = type(searcher).__name__

    def make(self, num_samples: int | None) -> Searcher:
        return self.searcher


def resolve_search_alg(search_alg: Any) -> SearchAlgorithm:
    """``search_alg`` as one of the façade's algorithms; a clear error for anything else."""
    if search_alg is None:
        return BasicVariantGenerator()
    if isinstance(search_alg, SearchAlgorithm):
        return search_alg
    if isinstance(search_alg, Searcher):
        return _Given(search_alg)
    if isinstance(search_alg, str):
        raise ValueError(
            f"search_alg={search_alg!r}: give an object, one of {AVAILABLE} (from "
            f"ashasim.tune.search) or an ashasim.search Searcher"
        )
    raise ValueError(
        f"search_alg {type(search_alg).__name__} is not supported; available: {AVAILABLE} "
        f"(from ashasim.tune.search), or an ashasim.search Searcher (RandomSearcher, "
        f"GridSearcher, KDESearcher, GPSearcher)"
    )


def __getattr__(name: str) -> Any:
    # Ray Tune names this package refuses (PopulationBasedTraining, HyperOptSearch, ...)
    return refused_name(__name__, name)
