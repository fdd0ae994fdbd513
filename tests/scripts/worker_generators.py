"""DataLoader workers that each create ``numpy.random.default_rng()`` without a seed.

Usage: python worker_generators.py fork|spawn|forkserver WORKERS
Prints one line per item: the worker id and the first draw of the generator it created.
"""

import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class FreshGenerators(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> tuple[int, float]:
        info = torch.utils.data.get_worker_info()
        return (info.id if info is not None else -1), float(np.random.default_rng().random())


if __name__ == "__main__":
    loader = DataLoader(
        FreshGenerators(),
        batch_size=None,
        num_workers=int(sys.argv[2]),
        multiprocessing_context=sys.argv[1],
    )
    for worker, draw in loader:
        print(worker, draw)
