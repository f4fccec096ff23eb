"""The torch.compile step runner, on CPU with a backend that runs Dynamo's traced graph eagerly
(Inductor and CUDA graphs are measured on a GPU by experiments/gpu_check.py): it trains exactly
the reference's trial, and a worker's later trials reuse the compiled code."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.training.compiled import CompileRunner  # noqa: E402
from tests.training.helpers import (  # noqa: E402
    assert_same_params,
    fresh,
    reference_history,
    runner_history,
)


@pytest.fixture
def traced():
    """A Dynamo backend that records each graph it is given and runs it as traced."""
    torch.compiler.reset()
    graphs = []

    def backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    yield backend, graphs
    torch.compiler.reset()


def test_the_compiled_step_is_the_reference_and_compiles_once_per_worker(data, traced):
    backend, graphs = traced
    config = {"learning_rate": 0.3, "batch_size": 64}
    reference, candidate = fresh(data, config), fresh(data, config)
    expected = reference_history(reference, 2)
    runner = CompileRunner(
        candidate.model, candidate.optimizer, data, 64, mode=None, backend=backend
    )
    assert runner_history(candidate, runner, 2) == expected
    assert_same_params(candidate.model, reference.model)
    compiled = len(graphs)
    assert 1 <= compiled <= 2  # the full batches; the remainder batch may need a dynamic one

    # the next trial of the worker: a new model and optimizer, the same batch size
    other, its_reference = fresh(data, config, seed=5), fresh(data, config, seed=5)
    runner = CompileRunner(other.model, other.optimizer, data, 64, mode=None, backend=backend)
    assert runner_history(other, runner, 1) == reference_history(its_reference, 1)
    assert len(graphs) == compiled  # nothing recompiled


def test_other_batch_sizes_reuse_a_dynamic_graph(data, traced):
    backend, graphs = traced
    for batch_size in (64, 100, 37, 50, 128, 90):
        trial = fresh(data, {"learning_rate": 0.1, "batch_size": batch_size})
        runner = CompileRunner(
            trial.model, trial.optimizer, data, batch_size, mode=None, backend=backend
        )
        runner.train_epoch(torch.randperm(data.n_train))
    assert len(graphs) <= 4  # 6 trials, 9 batch shapes: a few specializations, then reuse


def test_a_mode_needs_inductor(data):
    trial = fresh(data)
    with pytest.raises(ValueError, match="mode='reduce-overhead' needs backend='inductor'"):
        CompileRunner(trial.model, trial.optimizer, data, 64, backend="aot_eager")


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph trees need a CUDA GPU")
def test_reduce_overhead_follows_the_eager_step_on_a_gpu(data):
    """Inductor's kernels differ from eager ones in the last bits: close, not equal."""
    from ashasim.training.fashion_data import FashionData
    from ashasim.training.trial import make_trial

    cuda = FashionData(*(t.cuda() for t in (data.train_x, data.train_y, data.test_x, data.test_y)))
    config = {"learning_rate": 0.3, "batch_size": 64}
    eager = make_trial(config, data=cuda, seed=4, step="eager")
    compiled = make_trial(config, data=cuda, seed=4, step="compile")
    assert type(compiled.runner) is CompileRunner and compiled.runner.graphs
    for _ in range(2):
        assert compiled.train_epoch() == pytest.approx(eager.train_epoch(), rel=1e-4)
    assert compiled.validation_error() == pytest.approx(eager.validation_error(), abs=0.02)
