"""LeNet-5 as in d2l: architecture, and Xavier init drawn from the given generator."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")
ln = pytest.importorskip("ashasim.training.lenet")
nn = torch.nn


def test_lenet_architecture():
    model = ln.lenet(generator=torch.Generator().manual_seed(0))
    kinds = [type(m).__name__ for m in model]
    assert kinds == [
        "Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten",
        "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear",
    ]  # fmt: skip
    assert (model[0].in_channels, model[0].out_channels, model[0].padding) == (1, 6, (2, 2))
    assert (model[3].in_channels, model[3].out_channels, model[3].kernel_size) == (6, 16, (5, 5))
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (400, 120),
        (120, 84),
        (84, 10),
    ]
    assert sum(p.numel() for p in model.parameters()) == 61_706
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert ln.lenet(3)(torch.zeros(2, 1, 28, 28)).shape == (2, 3)


def test_lenet_init_is_xavier_and_seeded():
    model = ln.lenet(generator=torch.Generator().manual_seed(7)).requires_grad_(False)
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            fan_in = layer.weight[0].numel()
            fan_out = layer.weight.shape[0] * layer.weight[0, 0].numel()
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert float(layer.weight.abs().max()) <= bound
            assert float(layer.weight.abs().max()) > 0.8 * bound  # uniform fills the range
            assert float(layer.bias.abs().max()) <= fan_in**-0.5
    again = ln.lenet(generator=torch.Generator().manual_seed(7))
    other = ln.lenet(generator=torch.Generator().manual_seed(8))
    for x, y in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(model[0].weight, other[0].weight)
