"""Ray Tune's ``ray.tune.search.nevergrad`` (NevergradSearch): refused on import, with the
reason."""

from ashasim.tune.refusals import refuse_module

refuse_module(__name__)
