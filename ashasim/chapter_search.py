"""Syne Tune's ``searcher=`` and ``search_options=`` for the chapter façade (``ashasim.chapter``).

Syne Tune builds the searcher of an ASHA scheduler from a name and a dict of options, and it
merges that dict into its defaults without checking the keys: a misspelt or unsupported option
is silently dropped. The façade cannot drop anything (it behaves as Syne Tune or refuses in one
line), so each of Syne Tune's option names is either translated onto the ashasim searcher setting
that means the same, or refused with the names that are understood. ashasim's own option names
are accepted too (they are what ``make_searcher`` takes), so code written for ashasim's searchers
keeps working; an option given under both names is refused.

The defaults follow Syne Tune (0.14, ``legacy_searcher_factory``) where ashasim's differ:

* ``"bayesopt"`` under an ASHA scheduler is Syne Tune's ``GPMultiFidelitySearcher``: a GP whose
  inputs include the resource and which learns from every report (MOBSTER). Its ashasim
  counterpart is ``GPSearcher(fidelity=True)``, not the single-level GP.
  Its other settings keep ashasim's defaults (for example max(4, d + 1) random proposals before
  the model, where Syne Tune's ``num_init_random`` is 6): they tune the search, not its meaning.
* ``"kde"`` draws 64 candidates per proposal (``num_candidates``), where ashasim's KDE draws 24.
* ``"grid"`` takes 5 values of every real range and at most 5 of every integer range that
  ``num_samples`` does not size (Syne Tune's ``DEFAULT_NSAMPLE``), where ashasim's grid needs a
  count for real ranges and takes every integer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ashasim.search import Searcher, make_searcher
from ashasim.search.factory import searcher_options
from ashasim.search.kde import BOHB_NUM_SAMPLES
from ashasim.space import (
    LogRandInt,
    LogUniform,
    QLogUniform,
    QRandInt,
    QUniform,
    RandInt,
    Uniform,
)

__all__ = ["SEARCHERS", "syne_tune_searcher"]

#: Syne Tune's searcher names -> ashasim's
SEARCHERS = {"random": "random", "grid": "grid", "kde": "kde", "bayesopt": "gp"}

#: Syne Tune's grid: values of a range that ``num_samples`` does not size (``DEFAULT_NSAMPLE``)
GRID_VALUES = 5


def _percent(value: Any) -> float:
    """``top_n_percent`` (an integer percentage) as ashasim's ``top_fraction``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 100:
        raise ValueError(
            f"search_options['top_n_percent'] must be an integer in 1..99, got {value!r}"
        )
    return value / 100


def _same(value: Any) -> Any:
    return value


# Syne Tune option -> (ashasim option, conversion), per searcher. Only options whose meaning is
# the same on both sides are here; the others are refused rather than approximated.
_OPTIONS: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "random": {},
    "grid": {"num_samples": ("num", _same)},
    "kde": {
        "num_min_data_points": ("min_points", _same),
        "top_n_percent": ("top_fraction", _percent),
        "num_candidates": ("num_samples", _same),
        "bandwidth_factor": ("bandwidth_factor", _same),
        "min_bandwidth": ("min_bandwidth", _same),
        "random_fraction": ("random_fraction", _same),
    },
    "bayesopt": {
        "num_init_random": ("random_search_steps", _same),
        "num_init_candidates": ("num_candidates", _same),
        "max_size_data_for_model": ("max_points", _same),
    },
}


def syne_tune_searcher(
    name: str, search_options: Mapping[str, Any] | None, config_space: Mapping[str, Any]
) -> Searcher:
    """The ashasim searcher Syne Tune's ASHA would build for ``searcher=name``."""
    if name not in SEARCHERS:
        raise ValueError(f"searcher must be one of {sorted(SEARCHERS)} or a Searcher, got {name!r}")
    options = _translate(name, dict(search_options or {}))
    defaults = _defaults(name, config_space)
    if "num" in options and isinstance(options["num"], Mapping):  # sizes some ranges: the
        options["num"] = {**defaults["num"], **options["num"]}  # others keep Syne Tune's
    return make_searcher(SEARCHERS[name], **{**defaults, **options})


def _translate(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """ashasim's options from Syne Tune's (and ashasim's own, passed as they are)."""
    table = _OPTIONS[name]
    own = set(searcher_options(SEARCHERS[name]))
    options: dict[str, Any] = {}
    for key, value in given.items():
        if key in table:
            target, convert = table[key]
            if target in given and target != key:
                raise ValueError(
                    f"search_options names one setting twice: {key!r} (Syne Tune's name) and "
                    f"{target!r} (ashasim's); give one"
                )
            options[target] = convert(value)
        elif key in own:
            options[key] = value
        else:
            known = sorted(table) + sorted(own - {t for t, _ in table.values()})
            raise ValueError(
                f"search_options[{key!r}] has no counterpart in ashasim's {SEARCHERS[name]!r} "
                f"searcher (searcher={name!r} takes {known or 'no options'})"
            )
    return options


def _defaults(name: str, config_space: Mapping[str, Any]) -> dict[str, Any]:
    """Syne Tune's defaults where they differ from ashasim's (see the module docstring)."""
    if name == "bayesopt":
        return {"fidelity": True}
    if name == "kde":
        return {"num_samples": BOHB_NUM_SAMPLES}
    if name == "grid":
        return {"num": _grid_counts(config_space)}
    return {}


def _grid_counts(config_space: Mapping[str, Any]) -> dict[str, int]:
    """Values per range on Syne Tune's grid: GRID_VALUES, fewer for a short integer range."""
    counts = {}
    for key, domain in config_space.items():
        if isinstance(domain, (Uniform, LogUniform, QUniform, QLogUniform)):
            counts[key] = GRID_VALUES
        elif isinstance(domain, (RandInt, LogRandInt)):
            counts[key] = min(GRID_VALUES, domain.hi - domain.lo + 1)
        elif isinstance(domain, QRandInt):
            multiples = domain.hi // domain.q - -domain.lo // domain.q + 1  # of q in lo..hi
            counts[key] = min(GRID_VALUES, multiples)
    return counts
