"""PyTorch's DDP tutorial pattern: ``torch.multiprocessing.spawn`` starts 2 ranks; each joins a
gloo process group, splits the data with ``random_split``, builds a model, and reads a
DataLoader whose workers draw augmentation.

Usage: python spawn_ranks.py fork|spawn [fork] (the DataLoader workers' start method; ``fork``
starts the ranks with ``torch.multiprocessing.start_processes`` under fork instead)
Prints ``rank R seed S split ... init ...`` and ``rank R worker W ...`` per item, one
``os.write`` per line (the ranks share the pipe). With ``DRAW_BEFORE`` set, each rank draws
from torch before joining and prints ``rank R before ...``; with ``SEED_ITSELF`` set, each rank
calls ``torch.manual_seed(42)`` first.
"""

import hashlib
import os
import random
import socket
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split


class Augmented(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> str:
        info = torch.utils.data.get_worker_info()
        values = (random.random(), np.random.rand(), float(torch.rand(1)),
                  np.random.default_rng().random())  # fmt: skip
        return f"worker {info.id} " + " ".join(map(str, values))


def say(line: str) -> None:
    os.write(1, f"{line}\n".encode())


def train(rank: int, world_size: int, port: int, start_method: str) -> None:
    if os.environ.get("SEED_ITSELF"):
        torch.manual_seed(42)
    if os.environ.get("DRAW_BEFORE"):
        say(f"rank {rank} before {float(torch.rand(1))}")
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    train_set, _ = random_split(TensorDataset(torch.arange(20.0)), [15, 5])
    model = torch.nn.Linear(8, 4)
    weights = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    init = hashlib.sha256(weights).hexdigest()[:16]
    split = ",".join(map(str, train_set.indices))
    say(f"rank {rank} seed {torch.initial_seed()} split {split} init {init} "
        f"random {random.random()} numpy {np.random.rand()}")  # fmt: skip
    loader = DataLoader(Augmented(), batch_size=None, num_workers=2,
                        multiprocessing_context=start_method)  # fmt: skip
    for line in loader:
        say(f"rank {rank} {line}")
    dist.barrier()
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    ranks_by = sys.argv[2] if len(sys.argv) > 2 else "spawn"
    mp.start_processes(train, args=(2, free_port(), sys.argv[1]), nprocs=2, start_method=ranks_by)
