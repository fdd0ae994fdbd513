"""What ``autoseed verify --explain`` costs, in runs of the command it explains.

    python benchmarks/explain.py [--rounds 3] [--steps 200]

The command: a small training loop (a 3-layer MLP, Adam, ``--steps`` steps) whose batches come
in an order drawn from a ``torch.Generator`` seeded from the clock, so that no two runs repeat
and the seed-call ledger names the cause at once. Each round times one plain run of the command
(``AUTOSEED=1024``), then ``autoseed verify --explain --seed 1024`` on it, then a plain run
again, all with this interpreter (autoseed must be installed in it); the round's ratio is the
explain's wall time over the mean of the two plain runs around it, so that a machine whose load
drifts weighs on both alike. Reports the median ratio (the target: 6 at most), how many runs of
the command the explain made, and checks that it named the clock-seeded generator.
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

TARGET = 6.0
SCRIPT = """
import sys, time, torch
generator = torch.Generator().manual_seed(time.time_ns() % 2**32)
data = torch.randn(1024, 32, generator=torch.Generator().manual_seed(0))
order = torch.randperm(1024, generator=generator)
model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters())
for step in range(int(sys.argv[1])):
    start = (step * 16) % 1024
    x = data[order[start:start + 16]]
    loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(loss.item())
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of plain, explain, plain")
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOSEED", "_AUTOSEED"))}
    autoseed = str(Path(sys.executable).parent / "autoseed")
    ratios, plain_times, explain_times, runs = [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="autoseed-explain-bench-") as directory:
        script = Path(directory, "clock_order.py")
        script.write_text(SCRIPT)
        command = [sys.executable, str(script), str(args.steps)]
        for _ in range(args.rounds):
            before, _ = timed(command, {**base, "AUTOSEED": "1024"})
            seconds, explained = timed(
                [autoseed, "verify", "--explain", "--seed", "1024", "--", *command], base
            )
            after, _ = timed(command, {**base, "AUTOSEED": "1024"})
            named = "seeds: torch.Generator.manual_seed got " in explained.stdout
            if explained.returncode != 1 or not named:
                print(f"the explain did not name the generator:\n{explained.stdout}"
                      f"{explained.stderr}", file=sys.stderr)  # fmt: skip
                return 1
            runs = explained.stderr.count("autoseed: verify: ")
            plain = (before + after) / 2
            ratios.append(seconds / plain)
            plain_times.append(plain)
            explain_times.append(seconds)
    ratio = statistics.median(ratios)
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.rounds} rounds, "
        f"{args.steps} steps; the explain ran the command {runs} times\n"
    )
    print("| plain run (s) | verify --explain (s) | ratio | target |")
    print("|---|---|---|---|")
    print(
        f"| {statistics.median(plain_times):.2f} | {statistics.median(explain_times):.2f} | "
        f"{ratio:.2f} | {TARGET:.0f} at most: {'met' if ratio <= TARGET else 'NOT met'} |"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
