"""`autoseed fingerprint`: what decides a run's bits here, through real interpreters, and a
probe that really differs where the kernels do ("another machine" simulated with `taskset`,
`ATEN_CPU_CAPABILITY` and `OPENBLAS_CORETYPE`)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import pytest

from conftest import Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

PROBE_PARTS = {"torch.matmul", "torch.conv2d", "torch.sum", "torch.softmax",
               "numpy.matmul", "numpy.solve", "numpy.svd", "numpy.exp"}  # fmt: skip


def fingerprint(*prefix: str, **env: str) -> dict[str, Any]:
    """`autoseed fingerprint --json` of this test run's own interpreter (its `.venv`, where
    threadpoolctl, a dependency, is installed)."""
    argv = [*prefix, sys.executable, "-m", "autoseed", "fingerprint", "--json"]
    result = check(run(argv, env=clean_env(**env)))
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_fingerprint_names_what_decides_the_bits() -> None:
    import numpy
    import torch

    found = fingerprint()
    assert found["cpu"]["torch_isa"] == torch.backends.cpu.get_cpu_capability()
    assert found["cpu"]["usable_cpus"] == len(os.sched_getaffinity(0))
    assert found["threads"]["torch_intra_op"] == torch.get_num_threads()
    assert found["versions"]["torch"] == torch.__version__
    assert found["versions"]["numpy"] == numpy.__version__
    assert found["versions"]["python"].endswith(sys.version.split()[0])
    (openblas,) = [pool for pool in found["blas"] if pool["library"] == "openblas"]
    assert openblas["core"] and openblas["threads"] >= 1, openblas
    assert set(found["probe"]) == PROBE_PARTS
    assert all(len(digest) == 16 for digest in found["probe"].values())
    assert found["pins"]["AUTOSEED_PORTABLE"] is None
    assert fingerprint(AUTOSEED_PORTABLE="1")["pins"]["AUTOSEED_PORTABLE"] == "1"
    assert found["probe"] == fingerprint()["probe"], "the probe repeats on the same machine"


def test_the_command_takes_it_and_an_ordinary_run_does_not(installed: Venv) -> None:
    result = check(run([str(installed.bin / "autoseed"), "fingerprint"]))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cpu: ") and "torch dispatches to" in lines[0], describe(result)
    assert any(line.startswith("versions: python CPython") for line in lines), describe(result)
    assert lines[-1].startswith("probe: torch.matmul "), describe(result)
    code = (
        "import sys, numpy.random, torch\n"
        "print(sorted(m for m in sys.modules if m.startswith(('autoseed.record', 'threadpool'))))"
    )
    ordinary = check(installed.run("-c", code, env=clean_env(AUTOSEED="1")))
    assert ordinary.stdout == "[]\n", describe(ordinary)
    invalid = run([str(installed.bin / "autoseed"), "fingerprint"], env=clean_env(AUTOSEED="x"))
    assert (invalid.returncode, invalid.stdout) == (2, ""), describe(invalid)
    assert invalid.stderr == (
        "autoseed: fingerprint: AUTOSEED='x' (from the environment) is not valid; expected an "
        "integer 0..4294967295, 'random', or '', 'off', 'none', 'false', 'no' to turn autoseed "
        "off\n"
    ), describe(invalid)


@pytest.mark.skipif(
    shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2,
    reason="needs taskset and two CPUs",
)
def test_one_cpu_changes_the_threads_and_the_sum() -> None:
    here, one_cpu = fingerprint(), fingerprint("taskset", "-c", "0")
    assert one_cpu["threads"]["torch_intra_op"] == 1 != here["threads"]["torch_intra_op"]
    assert one_cpu["cpu"]["usable_cpus"] == 1
    assert one_cpu["probe"]["torch.sum"] != here["probe"]["torch.sum"]
    assert one_cpu["probe"]["torch.matmul"] == here["probe"]["torch.matmul"]


def test_another_isa_changes_the_softmax() -> None:
    import torch

    if torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AVX512_BF16"):
        pytest.skip("needs a CPU where torch dispatches beyond AVX2")
    here, avx2 = fingerprint(), fingerprint(ATEN_CPU_CAPABILITY="avx2")
    assert avx2["cpu"]["torch_isa"] == "AVX2"
    assert avx2["probe"]["torch.softmax"] != here["probe"]["torch.softmax"]
    assert avx2["probe"]["torch.sum"] == here["probe"]["torch.sum"]


def test_another_openblas_core_changes_the_svd() -> None:
    here = fingerprint()
    (openblas,) = [pool for pool in here["blas"] if pool["library"] == "openblas"]
    if openblas["core"] == "Haswell":
        pytest.skip("OpenBLAS already runs its Haswell kernels here")
    haswell = fingerprint(OPENBLAS_CORETYPE="Haswell")
    (pinned,) = [pool for pool in haswell["blas"] if pool["library"] == "openblas"]
    assert pinned["core"] == "Haswell"
    assert haswell["probe"]["numpy.svd"] != here["probe"]["numpy.svd"]


def test_without_threadpoolctl_the_blas_is_said_unknown(installed: Venv) -> None:
    code = (
        "import sys; sys.modules['threadpoolctl'] = None\n"
        "from autoseed.cli.main import main; main(['fingerprint'])\n"
    )
    result = check(installed.run("-c", code))
    assert "BLAS: unknown (threadpoolctl is not installed)" in result.stdout, describe(result)
