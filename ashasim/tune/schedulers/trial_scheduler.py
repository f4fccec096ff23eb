"""Ray Tune's module path ``ray.tune.schedulers.trial_scheduler``: the same names, from
``ashasim.tune.schedulers``."""

from ashasim.tune.schedulers import FIFOScheduler, TrialScheduler

__all__ = ["FIFOScheduler", "TrialScheduler"]
