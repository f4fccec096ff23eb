"""Does the objective take the space's names? Checked before the first job.

A worker calls ``objective(**config)`` with one keyword per name of the search space. A parameter
the space does not have, or a name of the space the objective does not take, would otherwise fail
every trial with the same ``TypeError``, one worker start at a time, until the run gives up; read
from the objective's signature, the mismatch is one line before anything is written.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["check_signature"]

_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def check_signature(objective: Callable[..., Any], names: Iterable[str]) -> None:
    """ValueError in one line when ``objective(**config)`` cannot take a config of *names*: a
    parameter without a default that the space lacks, or a name of the space that is no parameter
    (``**kwargs`` takes every name). An objective whose signature cannot be read passes."""
    try:
        parameters = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):  # a builtin or a C extension: nothing to read
        return
    space = set(names)
    title = f"objective {getattr(objective, '__name__', type(objective).__name__)}()"
    positional = [p.name for p in parameters if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    if any(p.default is inspect.Parameter.empty for p in parameters if p.name in positional):
        raise ValueError(
            f"{title} takes {positional[0]!r} by position only; the config is passed by name "
            f"(objective(**config)): drop the '/' from its signature"
        )
    named = {p.name for p in parameters if p.kind in _BY_KEYWORD}
    needed = sorted(p.name for p in parameters if p.kind in _BY_KEYWORD and p.default is p.empty)
    missing = [name for name in needed if name not in space]
    if missing:
        raise ValueError(
            f"{title} needs parameter {missing[0]!r}, which the search space does not have "
            f"(its names: {', '.join(sorted(space)) or 'none'}); add it to the space or give it "
            f"a default"
        )
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    unexpected = sorted(space - named)
    if unexpected:
        raise ValueError(
            f"{title} takes no parameter {unexpected[0]!r} of the search space (its parameters: "
            f"{', '.join(sorted(named)) or 'none'}); rename it, or add **kwargs to take every name"
        )
