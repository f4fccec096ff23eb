"""Ray Tune's ``ray.tune.search.optuna`` (OptunaSearch): refused on import, with the
reason."""

from ashasim.tune.refusals import refuse_module

refuse_module(__name__)
