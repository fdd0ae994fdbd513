"""What ``autoseed sweep -j 1`` adds to running the same commands one by one, as a ratio.

    python benchmarks/sweep.py [--runs 10] [--seconds 2] [--repeats 3]

The command is a Python script that sleeps ``--seconds`` and prints a metric, run ``--runs``
times: once by ``autoseed sweep 0-N -j 1 --metric ...`` (start-up, bookkeeping, the report
included) and once as a shell would run it, one after the other with ``AUTOSEED=s
AUTOSEED_OVERRIDE=1``, each repeat alternating which goes first. Reports the median of the
paired ratios. Use the interpreter autoseed is installed in.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A metric that follows the seed (the script's own seed, overridden), as a sweep expects: the
# same value from every seed would be a sweep that measured nothing (exit status 3).
SCRIPT = (
    "import random, sys, time\nrandom.seed(0)\ntime.sleep(float(sys.argv[1]))\n"
    "print('metric', random.random())\n"
)


def one_by_one(script: Path, runs: int, seconds: float) -> float:
    start = time.perf_counter()
    for seed in range(runs):
        env = {**os.environ, "AUTOSEED": str(seed), "AUTOSEED_OVERRIDE": "1"}
        subprocess.run([sys.executable, str(script), str(seconds)], env=env, check=True,
                       capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def swept(script: Path, runs: int, seconds: float, out: Path) -> float:
    autoseed = Path(sys.executable).parent / "autoseed"
    command = [sys.executable, str(script), str(seconds)]
    argv = [str(autoseed), "sweep", f"0-{runs - 1}", "-j", "1", "--out", str(out),
            "--metric", r"metric ([0-9.]+)", "--", *command]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "sleeper.py"
        script.write_text(SCRIPT)
        for repeat in range(args.repeats):
            out = Path(directory) / f"sweep-{repeat}"
            if repeat % 2:
                sweep_time = swept(script, args.runs, args.seconds, out)
                plain_time = one_by_one(script, args.runs, args.seconds)
            else:
                plain_time = one_by_one(script, args.runs, args.seconds)
                sweep_time = swept(script, args.runs, args.seconds, out)
            ratio = sweep_time / plain_time
            print(f"repeat {repeat + 1}: one by one {plain_time:.2f} s, sweep -j 1 "
                  f"{sweep_time:.2f} s, ratio {ratio:.4f}", flush=True)  # fmt: skip
            ratios.append(ratio)
    print(f"median ratio over {args.repeats} repeats ({args.runs} runs of {args.seconds} s): "
          f"{statistics.median(ratios):.4f} (target <= 1.02)")  # fmt: skip


if __name__ == "__main__":
    main()
