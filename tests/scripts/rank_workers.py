"""Under torchrun: each rank's DataLoader workers print what they draw.

Prints ``rank R worker W random NUMPY TORCH RNG`` per item, and ``rank R main ...`` for the
main process's draws. With ``SEED_ITSELF`` set, the script seeds torch itself (every rank 42).
"""

import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class Draws(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> str:
        info = torch.utils.data.get_worker_info()
        values = (random.random(), np.random.rand(), float(torch.rand(1)),
                  np.random.default_rng().random())  # fmt: skip
        return f"worker {info.id} " + " ".join(map(str, values))


if __name__ == "__main__":
    rank = os.environ["RANK"]
    if os.environ.get("SEED_ITSELF"):
        torch.manual_seed(42)
    # One write per line: the ranks share the pipe, and print() writes the newline apart.
    os.write(1, f"rank {rank} main {float(torch.rand(1))}\n".encode())
    loader = DataLoader(Draws(), batch_size=None, num_workers=2)
    for line in loader:
        os.write(1, f"rank {rank} {line}\n".encode())
