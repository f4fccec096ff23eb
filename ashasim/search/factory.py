"""Searchers by name, for configs, the CLI and ``searcher=`` arguments."""

from __future__ import annotations

import inspect
from typing import Any

from ashasim.search.base import Searcher
from ashasim.search.gp import GPSearcher
from ashasim.search.grid import GridSearcher
from ashasim.search.kde import KDESearcher
from ashasim.search.random_search import RandomSearcher

__all__ = ["SEARCHER_NAMES", "make_searcher", "searcher_options"]

SEARCHER_NAMES = ("random", "grid", "kde", "gp")
_CLASSES: dict[str, type[Searcher]] = {
    "random": RandomSearcher,
    "grid": GridSearcher,
    "kde": KDESearcher,
    "gp": GPSearcher,
}


def make_searcher(name_or_instance: str | Searcher, **options: Any) -> Searcher:
    """A new searcher called ``name`` with ``options``, or the given instance unchanged.

    An instance comes with its options already set, so passing options with one is an error
    rather than silently ignored; so is an option the named searcher does not take.
    """
    if isinstance(name_or_instance, Searcher):
        if options:
            raise ValueError(
                f"options {sorted(options)} apply only to a searcher given by name, "
                f"not to an instance of {type(name_or_instance).__name__}"
            )
        return name_or_instance
    if name_or_instance not in _CLASSES:
        raise ValueError(
            f"searcher must be one of {list(SEARCHER_NAMES)} or a Searcher instance, "
            f"got {name_or_instance!r}"
        )
    accepted = searcher_options(name_or_instance)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"searcher {name_or_instance!r} does not take option(s) {unknown}; it takes {accepted}"
        )
    return _CLASSES[name_or_instance](**options)


def searcher_options(name: str) -> list[str]:
    """The options the searcher called ``name`` takes (its constructor's keyword arguments)."""
    parameters = inspect.signature(_CLASSES[name].__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
