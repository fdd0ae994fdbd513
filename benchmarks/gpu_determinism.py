"""On a CUDA machine: does autoseed make training bit-identical, and what does benchmark cost?

    python benchmarks/gpu_determinism.py [--steps 200]

Trains a small conv net twice under ``AUTOSEED=1024 AUTOSEED_DETERMINISTIC=1`` and compares
the final weights bit for bit, then twice under ``AUTOSEED=1024 AUTOSEED_CUDNN=benchmark`` and
reports whether those differ and the speed ratio. Each training run is a fresh interpreter
seeded by autoseed's start-up hook: the training code below seeds nothing itself. Without
CUDA it says so and exits 0 without claiming anything. Exit status 1 when the deterministic
runs differ.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time


def train(steps: int) -> dict[str, object]:
    import torch

    device = torch.device("cuda")
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Dropout(0.2),
        torch.nn.Linear(64, 10),
    ).to(device)  # fmt: skip
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    images = torch.randn(steps, 64, 3, 32, 32, device=device)
    labels = torch.randint(0, 10, (steps, 64), device=device)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images[step]), labels[step])
        loss.backward()
        optimiser.step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    weights = b"".join(p.detach().cpu().numpy().tobytes() for p in model.parameters())
    return {
        "digest": hashlib.sha256(weights).hexdigest()[:16],
        "seconds": seconds,
        "loss": loss.item(),
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
    }


def run(steps: int, **settings: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOSEED")}
    env.update(settings)
    out = subprocess.run(
        [sys.executable, __file__, "--train", "--steps", str(steps)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train:
        print(json.dumps(train(args.steps)))
        return 0
    import torch

    if not torch.cuda.is_available():
        print("CUDA is not available: nothing measured, nothing claimed.")
        return 0
    deterministic = [run(args.steps, AUTOSEED="1024", AUTOSEED_DETERMINISTIC="1") for _ in "ab"]
    benchmark = [run(args.steps, AUTOSEED="1024", AUTOSEED_CUDNN="benchmark") for _ in "ab"]
    same = deterministic[0]["digest"] == deterministic[1]["digest"]
    bench_same = benchmark[0]["digest"] == benchmark[1]["digest"]
    ratio = min(float(r["seconds"]) for r in deterministic) / min(  # type: ignore[arg-type]
        float(r["seconds"])
        for r in benchmark  # type: ignore[arg-type]
    )
    print(f"GPU: {deterministic[0]['gpu']}, torch {deterministic[0]['torch']}, {args.steps} steps")
    print(
        f"AUTOSEED_DETERMINISTIC=1: {'bit-identical' if same else 'DIFFERENT'} weights "
        f"({deterministic[0]['digest']} / {deterministic[1]['digest']})"
    )
    print(
        f"AUTOSEED_CUDNN=benchmark: {'identical' if bench_same else 'different'} weights "
        f"({benchmark[0]['digest']} / {benchmark[1]['digest']})"
    )
    print(f"time deterministic / benchmark: {ratio:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
