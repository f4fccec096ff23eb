"""Ray Tune's ``trial_name_creator`` and ``trial_dirname_creator``: each trial's name and the
name of its directory, chosen by the user's functions of the trial.

As in Ray Tune, each creator is called once per trial, when the trial is created, with the
trial (its ``trial_id``, ``config``, ``trainable_name``, ``experiment_tag``); here that is its
first job, in the worker that runs it. The names are recorded at once, one small JSON file per
trial under the experiment directory (``configs.NAMES_DIR``), so that every later job of the
trial (a promotion, a retry, a ``resume=True``) reads them back instead of calling the creator
again; ``tune.run`` copies them into ``tune.json`` at the end. A directory name must be one path
component (no "/", not "." or ".."), so no trial directory can leave the experiment directory;
a name or directory name another trial holds already is refused: the trial fails with one line
saying so (claimed atomically, so two workers cannot both take one).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL
from ashasim.run.tuner import STATE_FILE
from ashasim.tune.configs import NAMES_DIR, trial_name, unflatten
from ashasim.tune.errors import TuneError
from ashasim.tune.trials import Trial

__all__ = ["RESERVED", "TrialNaming", "check_creator"]

Creator = Callable[[Trial], str]

#: what the run itself writes into the experiment directory, some of it only at its end
RESERVED = frozenset(
    [
        JOURNAL,
        STATE_FILE,
        NAMES_DIR,
        "tune.json",
        "checkpoints",
        "driver.lock",
        "replay.csv",
        "results.csv",
        "state.json",
        "summary.json",
    ]
)


def check_creator(what: str, creator: Any) -> Creator | None:
    """A creator is a function of the trial (or None: Ray Tune's default names)."""
    if creator is not None and not callable(creator):
        raise TypeError(f"{what} must be a function of the trial returning a str, got {creator!r}")
    return creator


class TrialNaming:
    """How the trials of one run are named: ``<prefix>_<id:05d>`` unless a creator says
    otherwise (module docstring). Travels to the workers with the trainable."""

    def __init__(
        self,
        prefix: str,
        name_creator: Creator | None = None,
        dirname_creator: Creator | None = None,
    ) -> None:
        self.prefix = prefix
        self.name_creator = name_creator
        self.dirname_creator = dirname_creator

    def names(self, root: Path, trial_id: int, flat: Mapping[str, Any]) -> tuple[str, str]:
        """(name, directory name) of trial *trial_id*, made and recorded on its first call."""
        default = trial_name(self.prefix, trial_id)
        if self.name_creator is None and self.dirname_creator is None:
            return default, default  # nothing recorded: the layout without creators
        record = root / NAMES_DIR / f"{trial_id}.json"
        if record.exists():
            found = json.loads(record.read_text(encoding="utf-8"))
            return found["name"], found["dirname"]
        trial = Trial(
            trial_id,
            default,
            unflatten(flat),
            "PENDING",
            None,
            experiment_dir=str(root),
            trainable_name=self.prefix,
        )
        name = _made("trial_name_creator", self.name_creator, trial) or default
        dirname = _made("trial_dirname_creator", self.dirname_creator, trial) or default
        _check_component(dirname, trial_id)
        claims = record.parent / "claims"  # apart from the records, whatever the names
        claims.mkdir(parents=True, exist_ok=True)
        fresh = _claim(claims / f"dir-{dirname}", "trial_dirname_creator", dirname, trial_id)
        if fresh and (dirname in RESERVED or (root / dirname).exists()):
            raise TuneError(
                f"trial_dirname_creator gave {dirname!r} for trial {trial_id}, the name of one "
                f"of the run's own files or of an entry the experiment directory holds already; "
                f"give each trial its own directory name"
            )
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]
        _claim(claims / f"name-{digest}", "trial_name_creator", name, trial_id)
        temporary = record.with_suffix(".tmp")
        temporary.write_text(json.dumps({"name": name, "dirname": dirname}) + "\n")
        os.replace(temporary, record)
        return name, dirname


def _made(what: str, creator: Creator | None, trial: Trial) -> str | None:
    if creator is None:
        return None
    made = creator(trial)
    if not isinstance(made, str) or not made.strip() or "\n" in made:
        raise TuneError(f"{what} must return a non-empty one-line str, got {made!r}")
    return made


def _check_component(dirname: str, trial_id: int) -> None:
    """One path component, so the directory stays inside the experiment directory."""
    separators = {"/", "\\", "\0", os.sep, os.altsep or "/"}
    if dirname in (".", "..") or any(s in dirname for s in separators):
        raise TuneError(
            f"trial_dirname_creator gave {dirname!r} for trial {trial_id}: a trial directory "
            f"name must be one path component (no '/', not '.' or '..')"
        )


def _claim(marker: Path, what: str, value: str, trial_id: int) -> bool:
    """Take *value* for *trial_id* (True), find it taken by the same trial already (a job that
    died before recording its names: False), or say which trial holds it (atomic: O_EXCL)."""
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        holder = marker.read_text(encoding="utf-8").strip() or "another trial"
        if holder == str(trial_id):
            return False
        raise TuneError(
            f"{what} gave {value!r} for trial {trial_id} as well as for trial {holder}; "
            f"give each trial its own"
        ) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(f"{trial_id}\n")
    return True
