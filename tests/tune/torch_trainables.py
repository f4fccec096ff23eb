"""Ray Tune's MNIST getting-started trainable, as its users write it (torchvision's MNIST from
"~/data", a tiny conv net, ``torch.save`` into the working directory)."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from ashasim import tune

EPOCH_SIZE = 128
TEST_SIZE = 64


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, kernel_size=3)
        self.fc = nn.Linear(192, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 3))
        return F.log_softmax(self.fc(x.view(-1, 192)), dim=1)


def train(model, optimizer, loader):
    model.train()
    for batch, (data, target) in enumerate(loader):
        if batch * len(data) > EPOCH_SIZE:
            return
        optimizer.zero_grad()
        F.nll_loss(model(data), target).backward()
        optimizer.step()


def test(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for batch, (data, target) in enumerate(loader):
            if batch * len(data) > TEST_SIZE:
                break
            correct += (model(data).argmax(1) == target).sum().item()
            total += target.size(0)
    return correct / total


def get_data_loaders():
    normalize = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
    )
    train_set = datasets.MNIST("~/data", train=True, download=True, transform=normalize)
    test_set = datasets.MNIST("~/data", train=False, download=True, transform=normalize)
    return DataLoader(train_set, batch_size=32, shuffle=True), DataLoader(test_set, batch_size=32)


def train_mnist(config):
    train_loader, test_loader = get_data_loaders()
    model = ConvNet()
    optimizer = optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])
    for _ in range(10):
        train(model, optimizer, train_loader)
        acc = test(model, test_loader)
        tune.report(mean_accuracy=acc)
        torch.save(model.state_dict(), "model.pth")  # into the trial's directory
