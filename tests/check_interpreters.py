"""Does the start-up hook fire and seed reproducibly under each given interpreter?

    python tests/check_interpreters.py [--wheel autoseed-*.whl] PYTHON [PYTHON ...]

For each interpreter: a fresh virtual environment, the wheel and numpy installed with pip (and
torch where that interpreter already has it: the venv then reuses its site-packages), a script
run twice under ``AUTOSEED=7`` and once under ``AUTOSEED=8``. Prints one line per interpreter
and exits 1 if any of them fails. Without ``--wheel`` the wheel is built from this checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import multiprocessing, random, sys
import numpy
line = [repr(random.random()), repr(numpy.random.rand())]
line += [repr(random.Random().random()), repr(numpy.random.default_rng().random())]
if __name__ == "__main__":  # two forked children, each with streams of its own
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for index in range(2):
        child = context.Process(target=lambda i=index: queue.put((i, random.random())))
        child.start()
        child.join()
    line += [repr(queue.get()[1]) for _ in range(2)]
try:
    import torch
except ImportError:
    pass
else:
    line.append(repr(torch.rand(1).item()))
print(sys.version.split()[0], *line)
"""


def sh(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)


def build_wheel(directory: Path) -> Path:
    result = sh(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(directory), str(ROOT)]
    )
    if result.returncode != 0:
        raise SystemExit(f"could not build the wheel:\n{result.stderr}")
    (wheel,) = directory.glob("autoseed-*.whl")
    return wheel


def check_interpreter(python: str, wheel: Path, venv: Path) -> tuple[bool, str]:
    """``(ok, one-line report)`` for one interpreter, using a new venv at ``venv``."""
    has_torch = sh([python, "-c", "import torch"]).returncode == 0
    flags = ["--system-site-packages"] if has_torch else []
    made = sh([python, "-m", "venv", *flags, str(venv)])
    if made.returncode != 0:
        return False, f"{python}: venv failed: {made.stderr.strip()[-300:]}"
    venv_python = str(venv / "bin" / "python")
    installed = sh([venv_python, "-m", "pip", "install", "--quiet", str(wheel), "numpy"])
    if installed.returncode != 0:
        return False, f"{python}: pip install failed: {installed.stderr.strip()[-300:]}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOSEED", "PYTHONHASH"))}
    runs = [
        sh([venv_python, "-c", PROBE], env={**base, "AUTOSEED": seed, "AUTOSEED_VERBOSE": "1"})
        for seed in ("7", "7", "8")
    ]
    for result in runs:
        if result.returncode != 0:
            return False, f"{python}: probe failed: {result.stderr.strip()[-300:]}"
    fired = "autoseed: seeded numpy with 7" in runs[0].stderr
    same = runs[0].stdout == runs[1].stdout
    differs = runs[0].stdout != runs[2].stdout
    version, *draws = runs[0].stdout.split()
    # Globals, unseeded generators and each forked child: every stream its own.
    distinct = len(set(draws)) == len(draws)
    libraries = "random, numpy" + (", torch" if has_torch else "")
    ok = fired and same and differs and distinct
    verdict = (
        "ok"
        if ok
        else (f"FAILED (fired={fired}, repeat={same}, seeds differ={differs}, distinct={distinct})")
    )
    return ok, f"Python {version} ({python}): {libraries}: {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="the wheel to test (default: build one)")
    parser.add_argument("pythons", nargs="+", metavar="PYTHON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autoseed-interpreters-") as tmp:
        workdir = Path(tmp)
        wheel = args.wheel or build_wheel(workdir / "dist")
        results = [
            check_interpreter(python, wheel, workdir / f"venv-{index}")
            for index, python in enumerate(args.pythons)
        ]
    for _, line in results:
        print(line)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
