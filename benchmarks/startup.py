"""What autoseed costs an interpreter's start-up, as ratios against the same environment without it.

    python benchmarks/startup.py [--runs 200] [--torch-runs 20]

Builds the wheel, installs it into fresh virtual environments, and makes a twin of each without
``autoseed.pth``. Runs alternate between each environment and its twin in one process tree, and
the figure reported is the median of the paired ratios (robust to the drift of a shared
machine). pip compiles bytecode when it installs a wheel: these are the figures a user gets.
The "no bytecode" row installs with ``pip --no-compile`` and runs with
PYTHONDONTWRITEBYTECODE=1, as after ``uv pip install`` or in a Docker image: every start then
compiles the start-up module from source.

A seeded top-level process restarts once to fix its own hash seed (``AUTOSEED_HASHSEED``'s
default); its children inherit ``PYTHONHASHSEED`` and never restart, so the "hash seed already
fixed" row is what every child pays.

The ``.env`` rows: a project's ordinary ``.env`` (nothing for autoseed), against the same venv
without ``autoseed.pth``; a ``.env`` that sets the seed, against the same seed from the
environment without a ``.env`` (what reading it costs: python-dotenv's parser included); a
1 MiB ``.env`` with the seed on its last line, against a 2-line one.
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

ROOT = Path(__file__).resolve().parent.parent
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
FLOOR_LINE = "import os; any(key.startswith('AUTOSEED') for key in os.environ)\n"


def sh(*argv: str | Path, **kwargs: object) -> str:
    return subprocess.run(
        [str(arg) for arg in argv], check=True, capture_output=True, text=True, **kwargs
    ).stdout


def make_venv(path: Path, *, system_site_packages: bool) -> Path:
    flags = ["--system-site-packages"] if system_site_packages else []
    sh(BASE_PYTHON, "-m", "venv", *flags, path)
    return path / "bin" / "python"


def site_packages(python: Path) -> Path:
    return Path(
        sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )


def twin_pair(
    workdir: Path, name: str, install: list[str], *, system_site_packages: bool
) -> tuple[Path, Path]:
    """Two venvs with autoseed installed the same way; the second has no autoseed.pth."""
    pythons = []
    for suffix in ("with", "without"):
        python = make_venv(workdir / f"{name}-{suffix}", system_site_packages=system_site_packages)
        sh(python, "-m", "pip", "install", "--quiet", *install)
        pythons.append(python)
    (site_packages(pythons[1]) / "autoseed.pth").unlink()
    return pythons[0], pythons[1]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(
    pair: tuple[Path, Path],
    code: str,
    runs: int,
    env: dict[str, str],
    cwd: Path,
    cwd_without: Path | None = None,
    env_without: dict[str, str] | None = None,
) -> tuple[float, float, float, float]:
    """Median ms with, median ms without, the median of paired ratios and of paired
    differences (ms). ``cwd_without``, ``env_without``: where and how the second of each pair
    runs, if otherwise."""
    runners = ((pair[0], cwd, env), (pair[1], cwd_without or cwd, env_without or env))
    with_times, without_times, ratios, added = [], [], [], []
    for _ in range(2):  # warm the page cache for both
        for python, where, how in runners:
            timed([str(python), "-c", code], how, where)
    for _ in range(runs):
        with_time, without_time = (
            timed([str(python), "-c", code], how, where) for python, where, how in runners
        )
        with_times.append(with_time)
        without_times.append(without_time)
        ratios.append(with_time / without_time)
        added.append(with_time - without_time)
    return (
        statistics.median(with_times) * 1000,
        statistics.median(without_times) * 1000,
        statistics.median(ratios),
        statistics.median(added) * 1000,
    )


ORDINARY_ENV_FILE = (
    "# local settings: never commit\nDATABASE_URL=postgres://app:secret@localhost:5432/app\n"
    "REDIS_URL=redis://localhost:6379/0\nSECRET_KEY='k3y-0f-the-app'\nDEBUG=1\n"
    'OPENAI_API_KEY="sk-proj-0123456789abcdef"\nAUTH_TOKEN=tok_42\nSENTRY_DSN=https://x@s.io/1\n'
)


def thirty_line_env_file() -> str:
    """A project's .env of 30 lines, the last of which sets the seed."""
    lines = [f"SERVICE_{i}_URL=https://service-{i}.example.com/api" for i in range(29)]
    return "\n".join([*lines, "AUTOSEED=1024"]) + "\n"


def big_env_file(size: int = 1 << 20, *, quoted: bool = True) -> str:
    """A .env of ``size`` bytes as projects write them (comments, plain and quoted values, an
    ``export``, a multi-line certificate; or, not ``quoted``, only plain values) with
    ``AUTOSEED=1024`` on its last line: the worst place, as everything before it must be read
    as python-dotenv would. Quoted, half its bindings have quoted values."""
    plain = "SERVICE_{i}_URL=https://service-{i}.example.com/api/v2\nSERVICE_{i}_TIMEOUT=30\n"
    block = (
        plain
        if not quoted
        else (
            "# Service {i}: credentials and endpoints (don't commit real values)\n"
            "SERVICE_{i}_URL=https://service-{i}.example.com/api/v2\n"
            'SERVICE_{i}_TOKEN="tok_{i}_4f2c9a7e1b3d5f60a8c2e4f6b8d0a1c3"\n'
            "export SERVICE_{i}_REGION='eu-west-{i}'\n"
            "SERVICE_{i}_TIMEOUT=30  # seconds\n"
            'SERVICE_{i}_CERT="-----BEGIN CERTIFICATE-----\nMIIB{i}kCCAT+gAwIBAgIJAO\n'
            '-----END CERTIFICATE-----"\n\n'
        )
    )
    last = "AUTOSEED=1024\n"
    blocks, total, i = [], len(last), 0
    while total + len(block.format(i=i)) <= size:  # within the first MiB, which is what is read
        blocks.append(block.format(i=i))
        total += len(blocks[-1])
        i += 1
    return "".join(blocks) + last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="pairs per `python -c pass` case")
    parser.add_argument("--torch-runs", type=int, default=20, help="pairs for `import torch`")
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOSEED")}
    base_env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="autoseed-bench-") as tmp:
        workdir = Path(tmp)
        plain_dir = workdir / "plain"
        plain_dir.mkdir()
        env_file_dir = workdir / "project"
        env_file_dir.mkdir()
        (env_file_dir / ".env").write_text("SECRET=x\nAUTOSEED=1024\n")
        big_env_dir = workdir / "big-project"
        big_env_dir.mkdir()
        (big_env_dir / ".env").write_text(big_env_file())
        plain_env_dir = workdir / "big-plain-project"
        plain_env_dir.mkdir()
        (plain_env_dir / ".env").write_text(big_env_file(quoted=False))
        ordinary_dir = workdir / "ordinary-project" / "src"
        ordinary_dir.mkdir(parents=True)
        (ordinary_dir.parent / ".env").write_text(ORDINARY_ENV_FILE)
        thirty_dir = workdir / "thirty-line-project"
        thirty_dir.mkdir()
        (thirty_dir / ".env").write_text(thirty_line_env_file())
        sh(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            workdir / "dist",
            ROOT,
        )
        (wheel,) = (workdir / "dist").glob("autoseed-*.whl")
        print("building environments...", file=sys.stderr)
        wheel_pair = twin_pair(workdir, "wheel", [str(wheel)], system_site_packages=False)
        uncompiled_pair = twin_pair(
            workdir, "uncompiled", ["--no-compile", str(wheel)], system_site_packages=False
        )
        # The floor: what any executable .pth line costs, here one that only reads os.environ.
        floor_python = make_venv(workdir / "floor", system_site_packages=False)
        (site_packages(floor_python) / "floor.pth").write_text(FLOOR_LINE)
        floor_pair = (floor_python, wheel_pair[1])
        torch_pair = twin_pair(
            workdir, "torch", ["--no-deps", str(wheel)], system_site_packages=True
        )
        base_env.pop("PYTHONHASHSEED", None)
        seeded = {**base_env, "AUTOSEED": "1024"}
        child = {**seeded, "PYTHONHASHSEED": "1024"}
        child_of_env_file = {**base_env, "PYTHONHASHSEED": "1024"}
        no_bytecode = {**base_env, "PYTHONDONTWRITEBYTECODE": "1"}
        pass_runs, torch_runs = args.runs, args.torch_runs
        cases = [
            ("floor: a .pth line that only reads os.environ", "—", floor_pair,
             "pass", pass_runs, base_env, plain_dir, None, None, "—"),
            ("off: `python -c pass`", "wheel", wheel_pair,
             "pass", pass_runs, base_env, plain_dir, None, None, "≤ 1.03"),
            ("off: `python -c pass`", "wheel, no bytecode", uncompiled_pair,
             "pass", pass_runs, no_bytecode, plain_dir, None, None, "≤ 1.10"),
            ("off, in a project whose ordinary .env (DATABASE_URL, API keys) is the "
             "parent folder's: `python -c pass`", "wheel", wheel_pair,
             "pass", pass_runs, base_env, ordinary_dir, None, None, "≤ 1.03"),
            ("on, hash seed already fixed (a child): `python -c pass`", "wheel", wheel_pair,
             "pass", pass_runs, child, plain_dir, None, None, "≤ 1.10"),
            ("on, top level (restarts once): `python -c pass`", "wheel", wheel_pair,
             "pass", pass_runs, seeded, plain_dir, None, None, "≤ 2.2"),
            ("on from a .env, top level (restarts once): `python -c pass`", "wheel", wheel_pair,
             "pass", pass_runs, base_env, env_file_dir, None, None, "—"),
            ("on from a 30-line .env against the same seed from the environment without a "
             ".env, a child: `python -c 'import random'`", "wheel",
             (wheel_pair[0], wheel_pair[0]), "import random", pass_runs, child_of_env_file,
             thirty_dir, plain_dir, child, "≤ +10 ms"),
            ("on from a 1 MiB .env (AUTOSEED on its last line, quoted values on half its "
             "bindings) against a 2-line .env, a child: `python -c 'import random'`", "wheel",
             (wheel_pair[0], wheel_pair[0]), "import random", pass_runs, child_of_env_file,
             big_env_dir, env_file_dir, None, "≤ +40 ms"),
            ("the same, the 1 MiB .env without quotes", "wheel", (wheel_pair[0], wheel_pair[0]),
             "import random", pass_runs, child_of_env_file, plain_env_dir, env_file_dir, None,
             "≤ +20 ms"),
            ("on, top level (restarts once): `python -c 'import torch'`", "wheel", torch_pair,
             "import torch", torch_runs, seeded, plain_dir, None, None, "≤ 1.02"),
        ]  # fmt: skip
        print(
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
            "medians of paired runs, with autoseed.pth vs the same venv without it\n"
        )
        print("| case | install | with (ms) | without (ms) | ratio | added (ms) | target |")
        print("|---|---|---|---|---|---|---|")
        for label, install, pair, code, runs, env, cwd, cwd_without, env_without, goal in cases:
            print(f"  measuring {label} ({install})...", file=sys.stderr)
            with_ms, without_ms, ratio, added = measure(
                pair, code, runs, env, cwd, cwd_without, env_without
            )
            print(
                f"| {label} | {install} | {with_ms:.1f} | {without_ms:.1f} | {ratio:.3f} "
                f"| {added:+.1f} | {goal} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
