"""Children forked by a ``fork`` or ``forkserver`` context each print their first draws.

Usage: python fork_children.py fork|forkserver
"""

import multiprocessing
import random
import sys

import numpy as np


def draw(queue: "multiprocessing.Queue[str]", index: int) -> None:
    queue.put(f"{index} {random.random()} {np.random.rand()}")


if __name__ == "__main__":
    context = multiprocessing.get_context(sys.argv[1])
    queue = context.Queue()
    children = [context.Process(target=draw, args=(queue, index)) for index in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    print(*sorted(queue.get() for _ in children), sep="\n")
