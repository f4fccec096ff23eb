"""Ray Tune's module path ``ray.tune.search.concurrency_limiter``: the same names, from
``ashasim.tune.search``."""

from ashasim.tune.search import ConcurrencyLimiter

__all__ = ["ConcurrencyLimiter"]
