"""DataLoader workers under a given start method; each item says which worker drew what.

Usage: python worker_streams.py spawn|forkserver
``fakelib`` (a test distribution with an autoseed seeder) is imported inside the worker, after
torch has reseeded it: it must get the worker's stream, not the job-wide seed.
"""

import random
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class Draws(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> tuple[object, ...]:
        info = torch.utils.data.get_worker_info()
        try:
            import fakelib  # type: ignore[import-not-found]

            late = fakelib.draw()
        except ImportError:
            late = None
        worker = info.id if info is not None else -1
        return worker, random.random(), float(np.random.rand()), float(torch.rand(1)), late


if __name__ == "__main__":
    loader = DataLoader(
        Draws(), batch_size=None, num_workers=2, multiprocessing_context=sys.argv[1]
    )
    for item in loader:
        print(*item)
