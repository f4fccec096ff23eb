"""Ray Tune's module path ``ray.tune.search.bayesopt``: the same names, from
``ashasim.tune.search``."""

from ashasim.tune.search import BayesOptSearch

__all__ = ["BayesOptSearch"]
