"""The one home of the schedulers' defaults: the classes, the factory and the CLI all read these.

* ``REDUCTION_FACTOR`` = 3: eta in Li et al.'s Hyperband and ASHA papers and Syne Tune's default.
* ``GRACE_PERIOD`` = 1: r_min, one epoch.
* ``OVERLAP`` = "top-rung": synchronous SH opens the next bracket once the current one's last
  rung is under way, as in the chapter's figure (see ``ashasim.core.sync_sh`` for the others).

The façades (``ashasim.chapter``, ``ashasim.tune``) keep the defaults of the libraries whose names
they mimic; that is their job, and their docstrings say so.
"""

from __future__ import annotations

__all__ = ["GRACE_PERIOD", "OVERLAP", "OVERLAPS", "REDUCTION_FACTOR"]

REDUCTION_FACTOR = 3
GRACE_PERIOD = 1
OVERLAPS = ("none", "top-rung", "always")
OVERLAP = "top-rung"
