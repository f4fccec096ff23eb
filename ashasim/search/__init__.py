"""Searchers: which config a new trial gets (ARCHITECTURE §2b).

Pure and seeded like the scheduler core: no clock, no I/O; the owning scheduler's generator is
the only source of randomness. ``RandomSearcher`` is the default and reproduces the schedulers'
own sampling draw for draw; ``GridSearcher`` enumerates a finite grid without replacement;
``KDESearcher`` is BOHB's density-ratio model; ``GPSearcher`` is Bayesian optimisation with a
Gaussian process; ``VariantSearcher`` is Ray Tune's sweep of the ``grid_search`` values, repeated,
with the rest drawn at random (what ``ashasim.tune`` gives a run without a search algorithm).
"""

from ashasim.search.base import Searcher
from ashasim.search.factory import SEARCHER_NAMES, make_searcher
from ashasim.search.gp import GPSearcher
from ashasim.search.grid import GridSearcher
from ashasim.search.kde import KDESearcher
from ashasim.search.random_search import RandomSearcher
from ashasim.search.variant import VariantSearcher

__all__ = [
    "SEARCHER_NAMES",
    "GPSearcher",
    "GridSearcher",
    "KDESearcher",
    "RandomSearcher",
    "Searcher",
    "VariantSearcher",
    "make_searcher",
]
