"""What the record costs: ``AUTOSEED_MANIFEST`` on a seeded run, and ``autoseed fingerprint``.

    python benchmarks/record.py [--runs 15]

With this interpreter (autoseed installed in it), paired and interleaved: a seeded torch script
(a few steps of a small model) with and without ``AUTOSEED_MANIFEST``, in a git checkout (the
manifest asks git for the commit); and ``autoseed fingerprint --json`` against a process that
imports the same libraries (torch, numpy, threadpoolctl) and does nothing else. Reports the
medians, their ratio and the difference in milliseconds. An ordinary seeded run, without
``AUTOSEED_MANIFEST``, takes no fingerprint and imports nothing of it (tests/test_fingerprint.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TRAIN = """
import torch
model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(20):
    loss = model(torch.randn(32, 64)).pow(2).mean()
    optimizer.zero_grad(); loss.backward(); optimizer.step()
print(loss.item())
"""
IMPORTS = "import torch, numpy, threadpoolctl"


def seconds(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def compare(label: str, baseline: list[str], measured: list[str], runs: int,
            env: dict[str, str], measured_env: dict[str, str], cwd: str) -> None:  # fmt: skip
    without, with_ = [], []
    seconds(baseline, env, cwd)  # warm the file cache
    for _ in range(runs):
        without.append(seconds(baseline, env, cwd))
        with_.append(seconds(measured, measured_env, cwd))
    low, high = statistics.median(without), statistics.median(with_)
    print(f"{label}: {high * 1000:.0f} ms against {low * 1000:.0f} ms, ratio {high / low:.3f}, "
          f"+{(high - low) * 1000:.0f} ms (medians of {runs} paired runs)", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "AUTOSEED": "7"}
    env.pop("AUTOSEED_MANIFEST", None)
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "train.py")
        with open(script, "w") as file:
            file.write(TRAIN)
        if shutil.which("git"):
            for command in (
                ["init", "-q"],
                ["add", "train.py"],
                ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "t"],
            ):
                subprocess.run(["git", *command], cwd=directory, check=True)  # fmt: skip
        manifest = {**env, "AUTOSEED_MANIFEST": os.path.join(directory, "run.jsonl")}
        compare("seeded training script with AUTOSEED_MANIFEST", [sys.executable, script],
                [sys.executable, script], args.runs, env, manifest, directory)  # fmt: skip
        compare("autoseed fingerprint --json",
                [sys.executable, "-c", IMPORTS],
                [sys.executable, "-m", "autoseed", "fingerprint", "--json"],
                args.runs, env, env, directory)  # fmt: skip


if __name__ == "__main__":
    main()
