"""Ray Tune's module path ``ray.tune.schedulers.hyperband``: the same names, from
``ashasim.tune.schedulers``."""

from ashasim.tune.schedulers import HyperBandScheduler

__all__ = ["HyperBandScheduler"]
