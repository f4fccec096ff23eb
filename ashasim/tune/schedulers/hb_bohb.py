"""Ray Tune's module path ``ray.tune.schedulers.hb_bohb``: the same names, from
``ashasim.tune.schedulers``."""

from ashasim.tune.schedulers import HyperBandForBOHB

__all__ = ["HyperBandForBOHB"]
