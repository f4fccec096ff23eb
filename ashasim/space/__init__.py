"""Search spaces: domains, sampling, checks and JSON (one module each; all names are here).

A config space is a plain ``dict`` of name -> domain or constant, e.g. the chapter's::

    {"learning_rate": loguniform(1e-2, 1.0), "batch_size": randint(32, 256), "max_epochs": 10}

Every random draw takes an explicit ``numpy.random.Generator`` so that one seed fixes a whole run.
Domains check their bounds when they are built; :func:`check_space` adds the parameter's name to
the message so a bad space is reported where it was written, not deep inside a scheduler.

Beyond the chapter's domains, the ones Ray Tune users write (``ashasim.tune`` gives them Ray's
names and bound conventions): quantized ranges (``quniform``, ``qloguniform``, ``qrandint``), a
normal (``randn``) and ``sample_from(fn)``, a value computed by a function of the values drawn so
far. ``sample_from`` is seeded like everything else: see :class:`SampleFrom`.
"""

from ashasim.space.derived import (
    QLogUniform,
    QRandInt,
    QUniform,
    RandN,
    SampleFrom,
    SampleFromError,
    Spec,
    qloguniform,
    qrandint,
    quniform,
    randn,
    sample_from,
)
from ashasim.space.domains import (
    Choice,
    Domain,
    GridSearch,
    LogRandInt,
    LogUniform,
    RandInt,
    Uniform,
    choice,
    grid_search,
    lograndint,
    loguniform,
    randint,
    uniform,
)
from ashasim.space.json_form import space_from_json, space_to_json
from ashasim.space.spaces import check_config, check_space, sample

__all__ = [
    "Choice",
    "Domain",
    "GridSearch",
    "LogRandInt",
    "LogUniform",
    "QLogUniform",
    "QRandInt",
    "QUniform",
    "RandInt",
    "RandN",
    "SampleFrom",
    "SampleFromError",
    "Spec",
    "Uniform",
    "check_config",
    "check_space",
    "choice",
    "grid_search",
    "lograndint",
    "loguniform",
    "qloguniform",
    "qrandint",
    "quniform",
    "randint",
    "randn",
    "sample",
    "sample_from",
    "space_from_json",
    "space_to_json",
    "uniform",
]
