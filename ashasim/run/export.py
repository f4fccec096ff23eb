"""Recording -> replay: turn a finished real run into a ``Tabular`` workload for the simulator.

"What would 8 workers, or synchronous SH, have done on this run?" The table holds, for every
(config, epoch) the run observed, the seconds that epoch took (time since the job's previous report;
for a job's first report, since the job started, so start-up and checkpoint loading are included)
and the metric. Limits: only observed pairs exist. A replay that asks for an epoch the run never
trained for that config (a trial the real scheduler stopped early, say) fails, or with
``Tabular(..., missing="hold")`` repeats the last observed epoch, which is only an approximation.

The code lives in ``ashasim.outputs`` with the other files a run leaves behind, so that both
clocks write it; this module keeps the names where they were.
"""

from __future__ import annotations

from ashasim.outputs import export_tabular, tabular_rows

__all__ = ["export_tabular", "tabular_rows"]
