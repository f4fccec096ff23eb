"""Ray Tune's module path ``ray.tune.search.bohb``: the same names, from
``ashasim.tune.search``."""

from ashasim.tune.search import TuneBOHB

__all__ = ["TuneBOHB"]
