"""Ray Tune's module path ``ray.tune.schedulers.async_hyperband``: the same names, from
``ashasim.tune.schedulers``."""

from ashasim.tune.schedulers import ASHAScheduler, AsyncHyperBandScheduler

__all__ = ["ASHAScheduler", "AsyncHyperBandScheduler"]
