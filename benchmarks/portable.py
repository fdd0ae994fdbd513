"""What ``AUTOSEED_PORTABLE`` costs: the wall time of a small training run, with and without.

    python benchmarks/portable.py [--steps 40] [--runs 5] [--threads 2]

With this interpreter (autoseed installed in it) and ``AUTOSEED=7``: a small conv-net trained
on random images (forward, backward, SGD), plus an SVD with numpy, each in a fresh process so
that the pins apply from the start, ``--runs`` times with ``AUTOSEED_PORTABLE=0``, ``=1`` and
``=--threads``, alternating. Reports the median time of the training loop alone (start-up and
imports excluded) and its ratio to the run without the pins, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

TRAINING = """
import sys, time
import numpy as np
import torch

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(64 * 8 * 8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10),
)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
images, labels = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
matrix = np.random.default_rng(0).standard_normal((400, 400))
start = time.perf_counter()
for _ in range(int(sys.argv[1])):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(images), labels).backward()
    optimizer.step()
np.linalg.svd(matrix)
print(time.perf_counter() - start, torch.get_num_threads())
"""


def train(steps: int, portable: str) -> tuple[float, int]:
    env = {**os.environ, "AUTOSEED": "7", "AUTOSEED_PORTABLE": portable}
    result = subprocess.run([sys.executable, "-c", TRAINING, str(steps)], env=env, check=True,
                            capture_output=True, text=True)  # fmt: skip
    seconds, threads = result.stdout.split()
    return float(seconds), int(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    settings = list(dict.fromkeys(["0", "1", str(args.threads)]))
    times: dict[str, list[float]] = {setting: [] for setting in settings}
    threads: dict[str, int] = {}
    for _ in range(args.runs):
        for setting in settings:
            seconds, threads[setting] = train(args.steps, setting)
            times[setting].append(seconds)
    baseline = statistics.median(times["0"])
    for setting in settings:
        median = statistics.median(times[setting])
        print(f"AUTOSEED_PORTABLE={setting}: torch on {threads[setting]} thread(s), training "
              f"median {median:.3f} s, {median / baseline:.2f}x the time without",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
