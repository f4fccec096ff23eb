"""Ray Tune's names, module paths and arguments: each works, or is refused in one line with
its reason; the "Coming from Ray Tune" guide lists exactly the refusals the code makes."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from ashasim import tune
from ashasim.tune.arguments import REFUSED_ARGUMENTS
from ashasim.tune.refusals import NOT_PROVIDED, REFUSED_MODULES

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "coming-from-ray-tune.md"


def guide_refusals() -> set[str]:
    text = GUIDE.read_text(encoding="utf-8")
    table = text[text.index("| Refused | Why") :].split("\n\n")[0]
    rows = [line.split("|")[1] for line in table.splitlines()[2:]]
    return {name for row in rows for name in re.findall(r"`([^`]+)`", row)}


def test_the_guide_lists_exactly_the_refusals_of_the_code():
    in_code = (
        set(NOT_PROVIDED)
        | {f"{name}=" for name in REFUSED_ARGUMENTS}
        | {f"ashasim.tune.{path}" for path in REFUSED_MODULES}
    )
    assert guide_refusals() == in_code


@pytest.mark.parametrize("path", sorted(REFUSED_MODULES))
def test_a_refused_module_path_says_why_on_import(path):
    with pytest.raises(ImportError, match=f"ashasim.tune.{path} is not provided: ") as error:
        importlib.import_module(f"ashasim.tune.{path}")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", sorted(NOT_PROVIDED))
def test_a_refused_name_says_why_from_every_package(name):
    for package in ("ashasim.tune", "ashasim.tune.schedulers", "ashasim.tune.search"):
        module = importlib.import_module(package)
        with pytest.raises(ImportError, match=f"{package} does not provide {name}: "):
            getattr(module, name)


def test_pbt_from_the_schedulers_package_gives_the_readme_reason():
    with pytest.raises(ImportError, match="PBT mutates configs of running trials"):
        from ashasim.tune.schedulers import PopulationBasedTraining  # noqa: F401


@pytest.mark.parametrize(
    ("path", "name", "same"),
    [
        ("search.bayesopt", "BayesOptSearch", tune.BayesOptSearch),
        ("search.bohb", "TuneBOHB", tune.TuneBOHB),
        ("search.basic_variant", "BasicVariantGenerator", tune.BasicVariantGenerator),
        ("search.concurrency_limiter", "ConcurrencyLimiter", tune.ConcurrencyLimiter),
        ("schedulers.hb_bohb", "HyperBandForBOHB", tune.HyperBandForBOHB),
        ("schedulers.hyperband", "HyperBandScheduler", tune.HyperBandScheduler),
        ("schedulers.async_hyperband", "ASHAScheduler", tune.ASHAScheduler),
        ("schedulers.trial_scheduler", "FIFOScheduler", tune.FIFOScheduler),
    ],
)
def test_rays_module_paths_give_the_same_classes(path, name, same):
    assert getattr(importlib.import_module(f"ashasim.tune.{path}"), name) is same


def test_unknown_names_stay_attribute_errors():
    with pytest.raises(AttributeError):
        _ = tune.schedulers.NoSuchScheduler


# ``ray.tune.__all__`` of Ray 2.60 (its public top-level names)
RAY_TUNE_NAMES = [
    "CLIReporter",
    "Callback",
    "Checkpoint",
    "CheckpointConfig",
    "Experiment",
    "ExperimentAnalysis",
    "FailureConfig",
    "JupyterNotebookReporter",
    "PlacementGroupFactory",
    "ProgressReporter",
    "Result",
    "ResultGrid",
    "ResumeConfig",
    "RunConfig",
    "Stopper",
    "SyncConfig",
    "Trainable",
    "TuneConfig",
    "TuneContext",
    "TuneError",
    "Tuner",
    "choice",
    "create_scheduler",
    "create_searcher",
    "get_checkpoint",
    "get_context",
    "grid_search",
    "lograndint",
    "loguniform",
    "qlograndint",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "register_env",
    "register_trainable",
    "report",
    "run",
    "run_experiments",
    "sample_from",
    "uniform",
    "with_parameters",
    "with_resources",
]


@pytest.mark.parametrize("name", RAY_TUNE_NAMES)
def test_every_public_name_of_ray_tune_works_or_says_why(name):
    """From ``ashasim.tune``, each of Ray Tune's top-level names is the working counterpart or
    an ImportError giving the reason: never a bare AttributeError."""
    if name in NOT_PROVIDED:
        with pytest.raises(ImportError, match=f"ashasim.tune does not provide {name}: ") as error:
            getattr(tune, name)
        assert "\n" not in str(error.value)
    else:
        assert name in tune.__all__ and getattr(tune, name) is not None
