"""Ray Tune's module path ``ray.tune.search.basic_variant``: the same names, from
``ashasim.tune.search``."""

from ashasim.tune.search import BasicVariantGenerator

__all__ = ["BasicVariantGenerator"]
