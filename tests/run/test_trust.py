"""Resuming a run directory runs none of its code: settings are JSON, code by value only when the
run was started and resumed with ``allow_pickle=True``, and the previous format (``tuner.pkl``)
likewise (``ashasim.run.settings_files``, ``ashasim.run.codec``)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil

import cloudpickle
import pytest

from ashasim.core import make_scheduler
from ashasim.events import JOURNAL
from ashasim.run import ResumeError, StoppingCriterion, Tuner
from ashasim.run.codec import decode
from ashasim.run.settings import BY_VALUE_FILE, LEGACY_STATE_FILE, STATE_FILE
from ashasim.run.settings_files import as_data, load_settings
from ashasim.space import uniform
from tests.run import objectives

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}


def scheduler(seed: int = 3):
    return make_scheduler(
        "asha", SPACE, max_t=4, grace_period=1, reduction_factor=2, metric="loss", seed=seed
    )


def fake_run(directory, objective=objectives.quadratic, trials=8, **options):
    return Tuner(
        objective,
        SPACE,
        scheduler(),
        2,
        stop=StoppingCriterion(max_trials=trials),
        backend="fake",
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        **options,
    )


def reports(trace):
    return [(r.trial_id, r.resource, r.metric) for r in trace.results]


def cut(source, target, lines):
    """*source* as a driver killed after *lines* journal lines would have left it."""
    shutil.copytree(source, target)
    text = (source / JOURNAL).read_text().splitlines(keepends=True)
    (target / JOURNAL).write_text("".join(text[:lines]))
    return target


class Marker:
    """Unpickling it writes a file: what a crafted pickle in a run directory would do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_settings_are_json_and_a_cut_run_resumes_to_the_same_results(tmp_path):
    full = fake_run(tmp_path / "full").run()
    settings = json.loads((tmp_path / "full" / STATE_FILE).read_text())
    assert settings["by_value"] is None and settings["unsaved"] == {}
    assert settings["values"]["function"]["import"]["name"] == "tests.run.objectives:quadratic"
    assert not (tmp_path / "full" / BY_VALUE_FILE).exists()
    assert not list(tmp_path.rglob("*.pkl"))
    assert full.info["by_value"] == []
    crashed = cut(tmp_path / "full", tmp_path / "cut", 9)
    resumed = Tuner.resume(crashed, quiet=True, outputs=False)
    assert reports(resumed) == reports(full)


@pytest.mark.parametrize("name", ["asha", "sync-hyperband", "bohb", "async-bohb", "asha-bo"])
def test_every_named_scheduler_is_rebuilt_from_its_settings(tmp_path, name):
    built = make_scheduler(
        name, SPACE, max_t=4, metric="loss", seed=7, points_to_evaluate=[{"x": 0.25}]
    )
    data = as_data("scheduler", built, tmp_path)
    rebuilt = decode(data, tmp_path)
    assert type(rebuilt) is type(built) and rebuilt.describe() == built.describe()
    assert rebuilt.suggest().config["x"] == 0.25  # the first point travels too


def test_a_lambda_objective_is_kept_only_with_the_switch(tmp_path):
    def objective(x, max_epochs):  # a closure: no import path
        objectives.quadratic(x, max_epochs)

    with pytest.warns(
        UserWarning, match="the objective .* not saved .*given it again .*allow_pickle"
    ):
        fake_run(tmp_path / "plain", objective, trials=4).run()
    with pytest.raises(ResumeError, match="was not saved .*allow_pickle=True") as refused:
        Tuner.resume(tmp_path / "plain", quiet=True)
    assert "\n" not in str(refused.value)

    full = fake_run(tmp_path / "kept", objective, allow_pickle=True).run()
    assert full.info["by_value"] == ["function"]
    crashed = cut(tmp_path / "kept", tmp_path / "cut", 7)
    with pytest.raises(ResumeError, match=r"keeps the objective .*objective.* by value .*--trust"):
        Tuner.resume(crashed, quiet=True)
    resumed = Tuner.resume(crashed, quiet=True, outputs=False, allow_pickle=True)
    assert reports(resumed) == reports(full)


@pytest.mark.damaged_journals
def test_a_crafted_by_value_pickle_runs_nothing(tmp_path):
    def objective(x, max_epochs):
        objectives.quadratic(x, max_epochs)

    fake_run(tmp_path / "run", objective, allow_pickle=True).run()
    marker = tmp_path / "marker"
    (tmp_path / "run" / BY_VALUE_FILE).write_bytes(pickle.dumps({"function": Marker(marker)}))
    with pytest.raises(ResumeError, match="by value"):
        Tuner.resume(tmp_path / "run", quiet=True)
    with pytest.raises(ResumeError, match="is not the one settings.json records"):
        Tuner.resume(tmp_path / "run", quiet=True, allow_pickle=True)
    assert not marker.exists()


def legacy_copy(source, target):
    """*source* as the previous format wrote it: the settings pickled in tuner.pkl."""
    shutil.copytree(source, target)
    settings, _ = load_settings(target)
    data = cloudpickle.dumps(settings)
    (target / LEGACY_STATE_FILE).write_bytes(data)
    (target / STATE_FILE).unlink()
    records = [json.loads(line) for line in (target / JOURNAL).read_text().splitlines()]
    records[0]["settings_sha256"] = hashlib.sha256(data).hexdigest()
    for record in records:  # nor did it seal its journal or note checkpoints in it
        for key in ("checksums", "crc", "checkpoint"):
            record.pop(key, None)
    (target / JOURNAL).write_text("".join(json.dumps(record) + "\n" for record in records))
    return target


def test_a_run_of_the_previous_format_resumes_only_with_the_switch(tmp_path):
    full = fake_run(tmp_path / "full").run()
    legacy = legacy_copy(cut(tmp_path / "full", tmp_path / "cut", 9), tmp_path / "legacy")
    with pytest.raises(ResumeError, match=r"older ashasim \(tuner.pkl.*allow_pickle=True"):
        Tuner.resume(legacy, quiet=True)
    resumed = Tuner.resume(legacy, quiet=True, outputs=False, allow_pickle=True)
    assert reports(resumed) == reports(full)


def test_a_crafted_tuner_pkl_runs_nothing_on_resume(tmp_path):
    fake_run(tmp_path / "run").run()
    directory = tmp_path / "run"
    marker = tmp_path / "marker"
    (directory / STATE_FILE).unlink()
    (directory / LEGACY_STATE_FILE).write_bytes(pickle.dumps(Marker(marker)))
    with pytest.raises(ResumeError) as refused:
        Tuner.resume(directory, quiet=True)
    assert "allow_pickle=True" in str(refused.value) and "\n" not in str(refused.value)
    assert not marker.exists()


def edit_settings(directory, change):
    path = directory / STATE_FILE
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


@pytest.mark.damaged_journals
@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"name": "os:system", "folder": None}, "names no folder"),
        ({"name": "os:system", "folder": os.path.dirname(os.__file__)}, "a library folder"),
        ({"name": "payload:run", "folder": "{run}"}, "inside the run directory"),
    ],
)
def test_settings_that_name_code_outside_the_run_s_own_are_refused(tmp_path, reference, message):
    fake_run(tmp_path / "run").run()
    directory = tmp_path / "run"
    marker = tmp_path / "marker"
    (directory / "payload.py").write_text(f"open({str(marker)!r}, 'w')\ndef run(**k): pass\n")
    reference = {
        **reference,
        "folder": (reference["folder"] or "").replace("{run}", str(directory)),
    }
    reference["folder"] = reference["folder"] or None

    def point_elsewhere(document):
        document["values"]["function"] = {"import": reference}

    edit_settings(directory, point_elsewhere)
    with pytest.raises(ResumeError, match=message):
        Tuner.resume(directory, quiet=True)
    assert not marker.exists()


@pytest.mark.damaged_journals
def test_settings_cannot_construct_a_class_outside_ashasim(tmp_path):
    fake_run(tmp_path / "run").run()
    marker = tmp_path / "marker"

    def popen(document):
        document["values"]["checkpoints"] = {
            "object": {"name": "subprocess:Popen", "folder": None},
            "arguments": {"dict": {"args": {"list": ["touch", str(marker)]}}},
        }

    edit_settings(tmp_path / "run", popen)
    with pytest.raises(ResumeError, match="subprocess:Popen names no folder"):
        Tuner.resume(tmp_path / "run", quiet=True)
    assert not marker.exists()


def test_resuming_a_missing_directory_or_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    for path, why in ((tmp_path / "nowhere", "no such directory"), (tmp_path / "file", "a file")):
        with pytest.raises(ResumeError, match=why) as refused:
            Tuner.resume(path, quiet=True)
        assert "\n" not in str(refused.value)


def test_result_files_that_are_links_are_replaced_not_written_through(tmp_path):
    full = fake_run(tmp_path / "full").run()
    crashed = cut(tmp_path / "full", tmp_path / "cut", 9)
    outside = tmp_path / "outside"
    outside.write_text("precious\n")
    names = ("results.csv", "summary.json", "replay.csv")
    for name in names:
        (crashed / name).unlink(missing_ok=True)
        (crashed / name).symlink_to(outside)
    resumed = Tuner.resume(crashed, quiet=True, outputs=True)
    assert reports(resumed) == reports(full)
    assert outside.read_text() == "precious\n"
    umask = os.umask(0)
    os.umask(umask)
    for name in names:
        assert not (crashed / name).is_symlink() and (crashed / name).stat().st_size > 0
        assert (crashed / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    assert not [path for path in crashed.iterdir() if path.name.endswith(".tmp")]


@pytest.mark.damaged_journals
def test_a_journal_that_is_a_link_is_refused_in_one_line(tmp_path):
    fake_run(tmp_path / "full").run()
    crashed = cut(tmp_path / "full", tmp_path / "cut", 9)
    outside = tmp_path / "outside.jsonl"
    (crashed / JOURNAL).rename(outside)
    (crashed / JOURNAL).symlink_to(outside)
    before = outside.read_bytes()
    with pytest.raises(ResumeError, match="is a symbolic link"):
        Tuner.resume(crashed, quiet=True)
    assert outside.read_bytes() == before


def test_an_objective_given_again_replaces_the_saved_one_if_it_is_the_run_s(tmp_path):
    def objective(x, max_epochs):  # a closure: not kept without the switch
        objectives.quadratic(x, max_epochs)

    with pytest.warns(UserWarning, match="a resume must be given it again"):
        full = fake_run(tmp_path / "full", objective).run()
    crashed = cut(tmp_path / "full", tmp_path / "cut", 9)
    with pytest.raises(ResumeError, match="the run's objective is .*objective, not .*quadratic"):
        Tuner.resume(crashed, quiet=True, objective=objectives.quadratic)
    resumed = Tuner.resume(crashed, quiet=True, outputs=False, objective=objective)
    assert reports(resumed) == reports(full)


@pytest.mark.damaged_journals  # settings.json is edited: the journal's digest no longer matches
def test_allow_nan_is_saved_with_the_run_and_older_settings_read_as_without_it(tmp_path):
    fake_run(tmp_path / "nan", allow_nan=True).run()
    settings, _ = load_settings(tmp_path / "nan")
    assert settings.allow_nan is True
    path = tmp_path / "nan" / STATE_FILE
    document = json.loads(path.read_text())
    del document["allow_nan"]  # as a run saved before the field existed
    path.write_text(json.dumps(document))
    settings, _ = load_settings(tmp_path / "nan")
    assert settings.allow_nan is False


@pytest.mark.damaged_journals  # settings.json is edited: the journal's digest no longer matches
def test_allow_nan_must_be_a_bool_given_and_saved(tmp_path):
    with pytest.raises(ValueError, match="allow_nan must be True or False, got 'yes'"):
        fake_run(tmp_path / "bad", allow_nan="yes")
    fake_run(tmp_path / "nan").run()
    path = tmp_path / "nan" / STATE_FILE
    document = json.loads(path.read_text())
    document["allow_nan"] = "yes"
    path.write_text(json.dumps(document))
    with pytest.raises(ResumeError, match="is damaged .*allow_nan must be True or False"):
        load_settings(tmp_path / "nan")
