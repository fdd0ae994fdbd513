"""A 4-epoch training loop that saves a checkpoint every epoch, and can resume from one.

Usage: python resume_train.py DIR [EPOCH] [--persistent] [--quiet-workers]
(EPOCH: resume from the checkpoint of that epoch). Prints the rank and a digest of the final
weights. Dropout, a shuffled DataLoader whose 2 workers add noise from random, numpy and
torch: every stream a resume must continue. --persistent: the workers are persistent;
--quiet-workers: they draw nothing (the noise comes from a fixed table).
"""

import hashlib
import os
import random
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

FLAGS = {word for word in sys.argv[1:] if word.startswith("--")}
ARGUMENTS = [word for word in sys.argv[1:] if not word.startswith("--")]


class Noisy(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if "--quiet-workers" in FLAGS:
            noise = torch.arange(8.0) * ((index * 7919) % 13) / 13
        else:
            noise = torch.randn(8) + random.random() + float(np.random.rand())
        return torch.full((8,), float(index)) + noise, torch.tensor([float(index % 3)])


def main() -> None:
    directory, rank = ARGUMENTS[0], os.environ.get("RANK", "0")
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.Dropout(0.3), torch.nn.ReLU(), torch.nn.Linear(16, 1)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    persistent = "--persistent" in FLAGS
    loader = DataLoader(
        Noisy(), batch_size=8, shuffle=True, num_workers=2, persistent_workers=persistent
    )
    first = 0
    if len(ARGUMENTS) > 1:
        resumed = int(ARGUMENTS[1])
        checkpoint = torch.load(os.path.join(directory, f"epoch{resumed}.rank{rank}.pt"))
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        first = resumed + 1
    for epoch in range(first, 4):
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
        torch.save(state, os.path.join(directory, f"epoch{epoch}.rank{rank}.pt"))
    weights = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    line = f"rank {rank} digest {hashlib.sha256(weights).hexdigest()}\n"
    os.write(1, line.encode())  # one write: the ranks share the pipe and must not interleave


if __name__ == "__main__":
    main()
