"""LeNet-5 as in Dive into Deep Learning, built and initialized from an explicit generator.

Built on the ``meta`` device and filled on the CPU, so that a seed gives the same initial weights
on every device and building never touches torch's global RNG.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lenet(
    num_classes: int = 10,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> nn.Sequential:
    """LeNet-5 as in d2l (sigmoid activations, average pooling) for 1 x 28 x 28 inputs.

    Weights are Xavier-uniform (d2l's ``init_cnn``); biases use PyTorch's default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)). All draws come from ``generator`` (a CPU generator;
    None: torch's global one) on the CPU before the move to ``device``, so a seed gives the same
    initial weights on every device. Building never touches the global RNG.
    """
    meta = torch.device("meta")  # shapes only; to_empty() allocates, init_lenet() fills
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2, device=meta),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, device=meta),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, device=meta),
        nn.Sigmoid(),
        nn.Linear(120, 84, device=meta),
        nn.Sigmoid(),
        nn.Linear(84, num_classes, device=meta),
    ).to_empty(device="cpu")
    init_lenet(model, generator)
    return model if device is None else model.to(device)


def init_lenet(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """(Re)initialize each Conv2d/Linear of ``model``, in module order, from ``generator``."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                if module.bias is not None:
                    bound = 1.0 / math.sqrt(module.weight[0].numel())
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
