"""What ``AUTOSEED_RESUME=1`` adds to each checkpoint saved, and to the load that resumes.

    python benchmarks/resume.py [--saves 50] [--loads 15]

With this interpreter (autoseed installed in it) and ``AUTOSEED=7``, with and without the
switch: the time of ``--saves`` calls of ``torch.save`` of a small model and its optimizer
(the record is written next to each), and of the first ``torch.load`` in ``--loads`` fresh
processes (the one that restores). Reports the medians and the difference in milliseconds;
the switch's cost does not grow with the checkpoint (the record is the random state only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

SAVES = """
import sys, time, torch
model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
optimizer = torch.optim.Adam(model.parameters())
state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
times = []
for index in range(int(sys.argv[2])):
    start = time.perf_counter()
    torch.save(state, f"{sys.argv[1]}/checkpoint{index}.pt")
    times.append(time.perf_counter() - start)
print(*times)
"""
LOAD = """
import sys, time, torch
start = time.perf_counter()
torch.load(sys.argv[1] + "/checkpoint0.pt")
print(time.perf_counter() - start)
"""


def python(code: str, *args: str, resume: bool) -> list[float]:
    env = {**os.environ, "AUTOSEED": "7", "AUTOSEED_RESUME": "1" if resume else "0"}
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True,
                            capture_output=True, text=True)  # fmt: skip
    return [float(word) for word in result.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--loads", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for resume in (False, True):
            saves = python(SAVES, directory, str(args.saves), resume=resume)
            loads = [python(LOAD, directory, resume=resume)[0] for _ in range(args.loads)]
            label = "AUTOSEED_RESUME=1" if resume else "AUTOSEED_RESUME=0"
            print(f"{label}: torch.save median {statistics.median(saves) * 1000:.2f} ms, "
                  f"first torch.load median {statistics.median(loads) * 1000:.2f} ms",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
