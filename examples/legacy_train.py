"""A "legacy" training script that seeds nothing itself.

Run it twice and the numbers differ; run it twice under ``AUTOSEED=1024`` and every line is
bit-identical. It draws from every source a real script does: ``random``, numpy's global
generator, torch's weight initialisation, dropout and a shuffling ``DataLoader`` whose two
worker processes draw augmentation noise of their own.
"""

import hashlib
import random
import sys

import numpy as np


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class NoisyDataset:
    """Adds per-sample noise from numpy and torch inside the DataLoader workers."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):  # noqa: ANN204 - any torch-friendly tuple
        import torch

        jitter = float(np.random.rand()) + torch.rand(1).item()
        return torch.full((4,), float(index)) + jitter, index % 2


def main() -> None:
    print("random:", random.random(), random.randint(0, 10**9))
    print("numpy: ", digest(np.random.rand(5).tobytes()), np.random.randint(0, 10**9))
    try:
        import torch
    except ImportError:
        print("torch:  not installed")
        return
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 2)
    )
    print("init:  ", digest(b"".join(p.detach().numpy().tobytes() for p in model.parameters())))
    loader = torch.utils.data.DataLoader(
        NoisyDataset(32), batch_size=8, shuffle=True, num_workers=2
    )
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    order = []
    for inputs, targets in loader:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimiser.step()
        order.append(inputs.sum().item())
    print("batches:", digest(repr(order).encode()))
    trained = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    print("trained:", digest(trained), f"loss={loss.item():.6f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
