"""The chapter's (Syne Tune's) ASHA arguments map onto the core scheduler."""

from ashasim.chapter import ASHA, loguniform, randint
from ashasim.core import ASHA as CoreASHA


def test_chapter_arguments():
    config_space = {
        "learning_rate": loguniform(1e-2, 1),
        "batch_size": randint(32, 256),
        "max_epochs": 10,
    }
    scheduler = ASHA(
        config_space,
        metric="validation_error",
        mode="min",
        points_to_evaluate=[{"learning_rate": 0.1, "batch_size": 128}],
        max_resource_attr="max_epochs",
        resource_attr="epoch",
        grace_period=2,
        reduction_factor=2,
        random_seed=1,
    )
    assert isinstance(scheduler, CoreASHA)
    assert scheduler.type == "stopping"  # Syne Tune's default, which the chapter relies on
    assert scheduler.max_t == 10 and scheduler.rung_levels == (2, 4, 8, 10)
    assert (scheduler.metric, scheduler.resource_attr) == ("validation_error", "epoch")
    job = scheduler.suggest()
    assert job.config == {"learning_rate": 0.1, "batch_size": 128, "max_epochs": 10}
    assert job.milestone == 10
    second = scheduler.suggest().config
    assert 1e-2 <= second["learning_rate"] <= 1 and 32 <= second["batch_size"] <= 256
    promotion = ASHA(
        config_space, metric="err", max_t=10, type="promotion", grace_period=2, reduction_factor=2
    )
    assert promotion.suggest().milestone == 2


def test_kde_by_its_syne_tune_name_keeps_syne_tunes_64_candidates():
    """Syne Tune's KDE searcher draws 64 candidates per proposal; ashasim's own draws 24. The
    façade keeps its library's default, and search_options still set it."""
    from ashasim.search import make_searcher

    space = {"learning_rate": loguniform(1e-2, 1), "max_epochs": 10}
    facade = ASHA(space, metric="err", max_t=10, searcher="kde")
    assert facade.searcher.num_samples == 64
    assert make_searcher("kde").num_samples == 24
    chosen = ASHA(space, metric="err", max_t=10, searcher="kde", search_options={"num_samples": 8})
    assert chosen.searcher.num_samples == 8
