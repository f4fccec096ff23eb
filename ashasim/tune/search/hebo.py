"""Ray Tune's ``ray.tune.search.hebo`` (HEBOSearch): refused on import, with the
reason."""

from ashasim.tune.refusals import refuse_module

refuse_module(__name__)
