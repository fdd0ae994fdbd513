"""Every way a script asks for fresh entropy, in one process and in forked children.

Prints one ``name value`` line per source; lines starting with ``tempfile`` must differ at
every run (the standard library's own generators are left alone).
"""

import multiprocessing
import random
import tempfile

import numpy as np
import torch


def draws() -> str:
    """First draws of each global generator and of each kind of fresh generator."""
    return " ".join(
        str(value)
        for value in (
            random.random(),
            float(np.random.rand()),
            float(torch.rand(1)),
            float(np.random.default_rng().random()),
            random.Random().random(),
        )
    )


def child(queue: "multiprocessing.Queue[str]", index: int) -> None:
    queue.put(f"fork-child {index} {draws()}")


def task(index: int) -> float:
    return float(np.random.default_rng().random())


if __name__ == "__main__":
    print("random.Random()", random.Random().random())
    random.seed()
    print("random.seed()", random.random())
    print("RandomState()", np.random.RandomState().rand())
    print("default_rng()", np.random.default_rng().random())
    print("SeedSequence()", np.random.SeedSequence().entropy)
    print("PCG64()", np.random.Generator(np.random.PCG64()).random())
    np.random.seed()
    print("numpy.random.seed()", np.random.rand())
    print("torch.seed()", torch.seed(), float(torch.rand(1)))
    print("explicit", np.random.default_rng(3).random(), random.Random(3).random())
    print("tempfile", next(tempfile._get_candidate_names()))  # type: ignore[attr-defined]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=child, args=(queue, index)) for index in range(2)]
    for process in children:
        process.start()
    for process in children:
        process.join()
    print(*sorted(queue.get() for _ in children), sep="\n")
    with context.Pool(2) as pool:
        print("pool-distinct", len(set(pool.map(task, range(8)))))
