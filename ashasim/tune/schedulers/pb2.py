"""Ray Tune's ``ray.tune.schedulers.pb2`` (PB2): refused on import, with the
reason."""

from ashasim.tune.refusals import refuse_module

refuse_module(__name__)
