"""Hypothesis profiles: "dev" (default, quick) and "ci" (derandomized, so CI is reproducible);
and Ctrl-C as the tests expect it."""

import os
import signal

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# A suite started in the background by a non-interactive shell (``cmd &``, some CI runners) has
# SIGINT ignored, and every process the tests start would inherit that: the Ctrl-C tests would
# send SIGINT to runs that cannot receive it. Python's own handler is reset on exec, so children
# start with the default, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
