"""A 4-epoch training loop that saves a checkpoint every epoch, and can resume from one.

Usage: python resume_train.py DIR [EPOCH] [--FLAG ...]
(EPOCH: resume from the checkpoint of that epoch). Prints the rank and a digest of the final
weights. Dropout, a shuffled DataLoader whose 2 workers add noise from random, numpy and
torch: every stream a resume must continue.

--persistent: the workers are persistent; --quiet-workers: they draw nothing (the noise comes
from a fixed table). --numpy-noise: the main process adds noise from numpy's global generator.
--order=ORDER, how a resume rebuilds its objects:
  build-first     (default) model and optimizer built, then the checkpoint loaded into them;
  load-first      nanoGPT's: the checkpoint loaded, then the model built and loaded, then the
                  optimizer built and loaded;
  optimizer-last  the model built, the checkpoint loaded into it, then the optimizer built
                  and loaded.
--drawing-optimizer: the optimizer draws its initial state when built (the checkpoint's
state then replaces it). --sync-target: a target network takes the model's weights through
load_state_dict after every epoch (DQN's pattern). --open-file: checkpoints written and read
through open files; --buffer: written into a buffer first. --mid-epoch: saved after the
second batch of each epoch instead of at its end.
"""

import hashlib
import io
import os
import random
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

FLAGS = {word for word in sys.argv[1:] if word.startswith("--")}
ARGUMENTS = [word for word in sys.argv[1:] if not word.startswith("--")]
ORDER = next((word.split("=", 1)[1] for word in FLAGS if word.startswith("--order=")), "")


class Noisy(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if "--quiet-workers" in FLAGS:
            noise = torch.arange(8.0) * ((index * 7919) % 13) / 13
        else:
            noise = torch.randn(8) + random.random() + float(np.random.rand())
        return torch.full((8,), float(index)) + noise, torch.tensor([float(index % 3)])


class DrawingSGD(torch.optim.SGD):
    """An optimizer whose initial state is drawn (a random scale per parameter)."""

    def __init__(self, parameters: list[torch.nn.Parameter]) -> None:
        super().__init__(parameters, lr=0.001)
        for parameter in parameters:
            self.state[parameter]["scale"] = torch.rand(())


def build_model() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.Dropout(0.3), torch.nn.ReLU(), torch.nn.Linear(16, 1)
    )


def build_optimizer(model: torch.nn.Module) -> torch.optim.Optimizer:
    if "--drawing-optimizer" in FLAGS:
        return DrawingSGD(list(model.parameters()))
    return torch.optim.SGD(model.parameters(), lr=0.001)


def save(state: dict[str, object], path: str) -> None:
    if "--buffer" in FLAGS:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        with open(path, "wb") as file:
            file.write(buffer.getvalue())
    elif "--open-file" in FLAGS:
        with open(path, "wb") as file:
            torch.save(state, file)
    else:
        torch.save(state, path)


def load(path: str) -> dict[str, dict[str, object]]:
    if "--open-file" in FLAGS:
        with open(path, "rb") as file:
            return torch.load(file)  # type: ignore[no-any-return]
    return torch.load(path)  # type: ignore[no-any-return]


def main() -> None:
    directory, rank = ARGUMENTS[0], os.environ.get("RANK", "0")
    first = int(ARGUMENTS[1]) + 1 if len(ARGUMENTS) > 1 else 0
    path = os.path.join(directory, f"epoch{first - 1}.rank{rank}.pt")
    if first and ORDER == "load-first":
        checkpoint = load(path)
        model = build_model()
        target = build_model()
        model.load_state_dict(checkpoint["model"])
        optimizer = build_optimizer(model)
        optimizer.load_state_dict(checkpoint["optimizer"])
    elif first and ORDER == "optimizer-last":
        model = build_model()
        target = build_model()
        checkpoint = load(path)
        model.load_state_dict(checkpoint["model"])
        optimizer = build_optimizer(model)
        optimizer.load_state_dict(checkpoint["optimizer"])
    else:
        model = build_model()
        target = build_model()
        optimizer = build_optimizer(model)
        if first:
            checkpoint = load(path)
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
    persistent = "--persistent" in FLAGS
    loader = DataLoader(
        Noisy(), batch_size=8, shuffle=True, num_workers=2, persistent_workers=persistent
    )
    for epoch in range(first, 4):
        for batch, (x, y) in enumerate(loader):
            if "--numpy-noise" in FLAGS:
                x = x + float(np.random.rand())
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if "--mid-epoch" in FLAGS and batch == 1:
                state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
                save(state, os.path.join(directory, f"epoch{epoch}.rank{rank}.pt"))
        if "--sync-target" in FLAGS:
            target.load_state_dict(model.state_dict())
            model[0].weight.data += 0.01 * target(torch.ones(1, 8)).sum()
        if "--mid-epoch" not in FLAGS:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
            save(state, os.path.join(directory, f"epoch{epoch}.rank{rank}.pt"))
    weights = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    line = f"rank {rank} digest {hashlib.sha256(weights).hexdigest()}\n"
    os.write(1, line.encode())  # one write: the ranks share the pipe and must not interleave


if __name__ == "__main__":
    main()
