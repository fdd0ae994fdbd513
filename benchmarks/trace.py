"""What the operator trace of ``autoseed verify --explain`` costs a run, as a ratio.

    python benchmarks/trace.py [--runs 10] [--steps 200]

Runs a small training loop (a 3-layer MLP, Adam, ``--steps`` steps, every operator recorded)
alternately traced and untraced under ``AUTOSEED=1024``, with this interpreter (autoseed must be
installed in it), and reports the median of the paired ratios of wall time, start-up included.
It also checks that both give the same output: the trace only reads tensors.
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

LOOP = """
import sys, torch
model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters())
for _ in range(int(sys.argv[1])):
    x = torch.randn(16, 32)
    loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(loss.item())
"""


def timed(env: dict[str, str], steps: int) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", LOOP, str(steps)], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return time.perf_counter() - start, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="pairs of runs")
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOSEED", "_AUTOSEED"))}
    base["AUTOSEED"] = "1024"
    ratios, plain_times, traced_times, calls = [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="autoseed-trace-bench-") as directory:
        for run in range(args.runs):
            trace_dir = os.path.join(directory, str(run))
            os.mkdir(trace_dir)
            plain, plain_out = timed(base, args.steps)
            traced, traced_out = timed({**base, "_AUTOSEED_TRACE": trace_dir}, args.steps)
            if plain_out != traced_out:
                print(f"traced output differs: {plain_out!r} vs {traced_out!r}", file=sys.stderr)
                return 1
            calls = sum(
                Path(trace_dir, name).read_text(encoding="utf-8").count("\n")
                for name in os.listdir(trace_dir)
            )
            ratios.append(traced / plain)
            plain_times.append(plain)
            traced_times.append(traced)
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} pairs, "
        f"{args.steps} steps ({calls} operator calls recorded per run)\n"
    )
    print("| untraced (s) | traced (s) | ratio |")
    print("|---|---|---|")
    print(
        f"| {statistics.median(plain_times):.2f} | {statistics.median(traced_times):.2f} | "
        f"{statistics.median(ratios):.2f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
