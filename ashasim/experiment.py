"""``Experiment``: one framing of a run, on either clock (ARCHITECTURE §6).

SimPy keeps one ``Environment`` and lets a ``RealtimeEnvironment`` run the same model against
the wall clock; ashasim does the same with runs. An ``Experiment`` says what to run (a
scheduler), on how many workers, until when (``Stop``), where (a directory), and how to treat
faults (``Faults``); it is checked once, at construction, and frozen. The same experiment is then

* simulated: ``experiment.simulate(costs, seed=0)`` replays the cost model on the SimPy clock, or
* run for real: ``experiment.run(objective, backend=Local() | Ray() | Fake(),
  checkpoints=Checkpoints())`` on worker processes, Ray actors or in-process threads,

and a real run is continued with ``Experiment.resume(directory, stop=Stop(time=7200))``: the saved
experiment with the changes (``dataclasses.replace``, checked again). Both clocks journal the
same events, write the same result files (``outputs``), and answer with a ``Trace``.

``ashasim.simulate(...)`` and ``ashasim.Tuner(...)`` are builders of the same frame, kept for the
code written before this module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ashasim.checks import check_name
from ashasim.frame import Faults, Frame, Stop
from ashasim.run.configs import BackendConfig, Checkpoints, Fake, Local, Ray

if TYPE_CHECKING:
    from ashasim.events import Trace
    from ashasim.progress import Progress
    from ashasim.sim.costs import CostModel

__all__ = ["Checkpoints", "Experiment", "Fake", "Faults", "Local", "Ray", "Stop"]


class Experiment(Frame):
    """A run's frame (``ashasim.frame.Frame``: *scheduler*, *n_workers*, ``stop=Stop(time=,
    trials=)``, *directory*, ``faults=Faults(...)``, *durable*, *outputs*) and the two clocks
    that run it. A frozen dataclass: ``experiment.replace(n_workers=8)`` is a checked copy.

    The scheduler holds the run's state, so an experiment runs once; frame another one (with a
    fresh scheduler) to run again. Example::

        asha = ASHA(space, metric="loss", type="promotion")
        experiment = Experiment(asha, 4, stop=Stop(trials=64), directory="runs/asha")
        trace = experiment.simulate(LearningCurves(), seed=0)  # or, for real:
        trace = experiment.run(train, backend=Local(devices="cpu"))
    """

    def simulate(self, costs: CostModel, *, seed: int = 0, progress: bool = False) -> Trace:
        """Replay *costs* on the SimPy clock (``ashasim.sim``); *seed* seeds the cost model's
        noise (the scheduler has its own). Journals into ``directory`` when one is given."""
        from ashasim.sim.simulation import run_simulation

        return run_simulation(self, costs, seed=seed, progress=progress)

    def run(
        self,
        objective: Callable[..., Any],
        *,
        backend: BackendConfig | None = None,
        checkpoints: Checkpoints | None = None,
        name: str | None = None,
        quiet: bool = False,
        print_every: float | None = None,
        progress: Progress | None = None,
        allow_pickle: bool = False,
    ) -> Trace:
        """Run *objective* (a function of the config's keys that reports through
        ``ashasim.Reporter``) for real on *backend* (default ``Local()``: worker processes on
        every visible GPU, else the CPU), its checkpoints where *checkpoints* says. *name*: the
        run's name (the directory is ``runs/<name>`` when the experiment has none). *quiet*,
        *print_every*, *progress*: how the run shows itself (see ``ashasim.Tuner``).
        *allow_pickle*: keep by value what has no JSON form (an objective defined in a
        notebook), so that the run can be resumed with the same switch."""
        from ashasim.run.real_run import Display, RealRun

        if name is not None:
            check_name("name", name)
        run = RealRun.new(
            self,
            objective,
            backend=backend,
            checkpoints=checkpoints,
            name=name,
            display=Display(quiet, print_every, progress),
            allow_pickle=allow_pickle,
        )
        return run.run()

    @classmethod
    def resume(
        cls,
        directory: str | Path,
        *,
        quiet: bool = False,
        progress: Progress | None = None,
        allow_pickle: bool = False,
        objective: Callable[..., Any] | None = None,
        **changes: Any,
    ) -> Trace:
        """Continue the real run in *directory* from its journal, with *changes* to its saved
        experiment: ``stop``, ``faults``, ``durable``, ``outputs`` or ``backend`` (the same kind
        of backend: e.g. ``Ray(address="ray://new-head:10001")``). ``faults`` and ``backend``
        may also be a dict of the fields to change (``faults={"trial_timeout": 60}``). Refuses
        in one line (``ResumeError``), touching nothing, when the directory is not a run's.
        *allow_pickle*: read what the run kept by value, or a ``tuner.pkl`` of the previous
        format (unpickling runs code: only for a directory you trust). *objective*: the run's
        objective given again (a script or notebook resuming its own run), used instead of the
        saved one, so an objective without an import path needs no pickle."""
        from ashasim.run.real_run import Display, RealRun

        display = Display(quiet=quiet, progress=progress)
        run = RealRun.resume(
            directory, changes, display, allow_pickle=allow_pickle, objective=objective
        )
        return run.run()
