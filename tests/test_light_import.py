"""`import ashasim` stays light: the heavy libraries load on first use, never at import.

A fresh interpreter is the only honest check, since this test process has long imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "torch", "matplotlib", "simpy", "pandas", "threadpoolctl")


def _loaded_after(code: str) -> set[str]:
    """The heavy top-level packages in ``sys.modules`` after running *code* in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out)} & set(HEAVY)


def test_import_ashasim_loads_no_heavy_library() -> None:
    assert _loaded_after("import ashasim") == set()


def test_building_schedulers_with_model_searchers_loads_no_heavy_library() -> None:
    # BOHB and the GP searcher are constructed and configured at import-free cost; their model
    # libraries load when a model is first fitted.
    code = (
        "import ashasim\n"
        "from ashasim.search import GPSearcher\n"
        "space = {'lr': ashasim.loguniform(1e-4, 1e-1)}\n"
        "ashasim.BOHB(space, metric='loss', max_t=9, seed=0)\n"
        "ashasim.ASHA(space, type='promotion', metric='loss', max_t=9, searcher=GPSearcher(), seed=0)\n"
    )
    assert _loaded_after(code) == set()


def test_the_probe_sees_a_heavy_import() -> None:
    # Guards the two tests above against a probe that could never see anything.
    assert _loaded_after("import scipy.special") == {"scipy"}


def test_fitting_a_gp_loads_scipy_on_first_use() -> None:
    code = (
        "import ashasim\n"
        "from ashasim.search import GPSearcher\n"
        "space = {'lr': ashasim.uniform(0.0, 1.0)}\n"
        "s = ashasim.ASHA(space, type='stopping', metric='loss', max_t=3, "
        "searcher=GPSearcher(), seed=0)\n"
        "for _ in range(8):\n"
        "    job = s.suggest()\n"
        "    s.report(job.trial_id, job.milestone, job.config['lr'])\n"
    )
    assert "scipy" in _loaded_after(code)
