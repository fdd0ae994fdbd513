"""``AUTOSEED_PORTABLE``: the same bits on another machine, through real processes.

"Another machine" is simulated on this one: ``taskset -c 0`` (one CPU, so another thread
count), and a CPU without AVX-512 (``ATEN_CPU_CAPABILITY=avx2`` and numpy's AVX-512 features
off, as a user would set them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from autoseed.seeding import portable
from autoseed.settings.plan import (
    ENVIRONMENT,
    PORTABLE_VARIABLE,
    ConfigError,
    Setting,
    parse_portable,
    resolve_config,
)
from conftest import SCRIPTS, Venv, check, clean_env, describe, run

WORKLOAD = SCRIPTS / "portable_workload.py"
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
TASKSET = shutil.which("taskset")
needs_two_cpus = pytest.mark.skipif(
    TASKSET is None or CPUS < 2,
    reason="another thread count is simulated with taskset on a machine with 2 CPUs or more",
)
AVX2 = portable.machine() == "x86_64" and portable.cpu_has_avx2() is True


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as file:
            return next((set(line.split()) for line in file if line.startswith("flags")), set())
    except OSError:
        return set()


needs_avx512 = pytest.mark.skipif(
    not (AVX2 and "avx512f" in _cpu_flags()),
    reason="a machine without AVX-512 is simulated on one that has it",
)


def setting(raw: str) -> Setting:
    return Setting(PORTABLE_VARIABLE, raw, ENVIRONMENT)


class TestSetting:
    @pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
    def test_true_words_pin_one_thread(self, raw: str) -> None:
        assert parse_portable(setting(raw)) == 1

    @pytest.mark.parametrize(
        ("raw", "threads"), [("2", 2), (" 8 ", 8), ("016", 16), ("1024", 1024)]
    )
    def test_a_number_is_the_thread_count(self, raw: str, threads: int) -> None:
        assert parse_portable(setting(raw)) == threads

    @pytest.mark.parametrize("raw", ["", " ", "0", "false", "No", "OFF"])
    def test_off_words(self, raw: str) -> None:
        assert parse_portable(setting(raw)) is None

    @pytest.mark.parametrize("raw", ["-1", "+2", "1025", "1.5", "0x8", "two", "max", "8 threads"])
    def test_rejects_with_variable_value_source_and_accepted_forms(self, raw: str) -> None:
        with pytest.raises(ConfigError) as caught:
            parse_portable(Setting(PORTABLE_VARIABLE, raw, "/project/.env, line 2"))
        message = str(caught.value)
        assert message.startswith(f"AUTOSEED_PORTABLE={raw!r} (from /project/.env, line 2)")
        assert "a thread count 1..1024" in message and "1/true/yes/on" in message
        assert "\n" not in message

    def test_works_without_a_seed_and_reaches_children(self) -> None:
        plan = resolve_config({PORTABLE_VARIABLE: setting("4")})
        assert plan.seed is None and plan.active and plan.portable == 4
        assert plan.exported_environment()[PORTABLE_VARIABLE] == "4"


@pytest.mark.slow
class TestAnotherMachine:
    def digests(self, venv: Venv, env: dict[str, str], *, one_cpu: bool) -> list[str]:
        argv = [str(venv.python), str(WORKLOAD)]
        result = check(run([str(TASKSET), "-c", "0", *argv] if one_cpu else argv, env=env))
        torch_digest, numpy_digest = result.stdout.split()
        return [torch_digest, numpy_digest]

    @needs_two_cpus
    @pytest.mark.parametrize("seed", [{}, {"AUTOSEED": "7"}], ids=["self-seeded", "AUTOSEED"])
    def test_one_cpu_and_two_give_the_same_bits_only_with_the_mode(
        self, installed: Venv, seed: dict[str, str]
    ) -> None:
        here = self.digests(installed, clean_env(**seed), one_cpu=False)
        there = self.digests(installed, clean_env(**seed), one_cpu=True)
        # Else this test proves nothing: the thread count must change the bits of both.
        assert here[0] != there[0] and here[1] != there[1], (here, there)
        portable_env = clean_env(**seed, AUTOSEED_PORTABLE="1")
        here = self.digests(installed, portable_env, one_cpu=False)
        there = self.digests(installed, portable_env, one_cpu=True)
        assert here == there

    @needs_avx512
    def test_a_cpu_without_avx512_gives_the_same_bits_only_with_the_mode(
        self, installed: Venv
    ) -> None:
        features = portable.numpy_features_above_avx2(portable.numpy_version())
        assert features is not None
        avx2_only = {"ATEN_CPU_CAPABILITY": "avx2", "NPY_DISABLE_CPU_FEATURES": features}
        here = self.digests(installed, clean_env(), one_cpu=False)
        there = self.digests(installed, clean_env(**avx2_only), one_cpu=False)
        assert here[0] != there[0] and here[1] != there[1], (here, there)
        here = self.digests(installed, clean_env(AUTOSEED_PORTABLE="1"), one_cpu=False)
        there = self.digests(
            installed, clean_env(AUTOSEED_PORTABLE="1", **avx2_only), one_cpu=False
        )
        assert here == there


PINS = """
import json, os, sys, numpy, torch
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
print(json.dumps({
    "threads": torch.get_num_threads(),
    "capability": torch.backends.cpu.get_cpu_capability(),
    "numpy_features": [name for name in __cpu_dispatch__ if __cpu_features__[name]],
    "matmul": torch.backends.cuda.matmul.fp32_precision,
    "conv": torch.backends.cudnn.conv.fp32_precision,
    "rnn": torch.backends.cudnn.rnn.fp32_precision,
    "legacy_cudnn_tf32": torch.backends.cudnn.allow_tf32,
    "environ": {key: os.environ.get(key) for key in sys.argv[1:]},
}))
"""
PIN_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def pins_seen(venv: Venv, env: dict[str, str]) -> dict[str, Any]:
    """What a process started with ``env`` computes with, warnings as errors, stderr empty."""
    result = check(venv.run("-W", "error", "-c", PINS, *PIN_VARIABLES, env=env))
    assert result.stderr == "", describe(result)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.slow
class TestPins:
    @pytest.mark.skipif(not AVX2, reason="AVX2 is the level pinned on x86-64 CPUs that have it")
    def test_in_force_before_numpy_and_torch_load(self, installed: Venv) -> None:
        seen = pins_seen(installed, clean_env(AUTOSEED_PORTABLE="1"))
        assert seen["threads"] == 1
        assert seen["capability"] == "AVX2"
        features = seen["numpy_features"]
        assert isinstance(features, list) and features  # AVX2's are left on
        assert not any("512" in name or name == "X86_V4" for name in features), features
        assert (seen["matmul"], seen["conv"], seen["rnn"]) == ("ieee", "ieee", "ieee")
        assert seen["legacy_cudnn_tf32"] is False  # torch's older reader still answers
        assert seen["environ"] == {
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_CORETYPE": "Haswell",
            "MKL_CBWR": "AVX2",
            "ONEDNN_MAX_CPU_ISA": "AVX2",
        }

    def test_a_thread_count(self, installed: Venv) -> None:
        seen = pins_seen(installed, clean_env(AUTOSEED="3", AUTOSEED_PORTABLE="2"))
        assert seen["threads"] == 2
        assert seen["environ"]["OMP_NUM_THREADS"] == "2"

    def test_the_users_variables_win_and_status_says_which(self, installed: Venv) -> None:
        env = clean_env(
            AUTOSEED_PORTABLE="1", OMP_NUM_THREADS="2", ATEN_CPU_CAPABILITY="default",
            NPY_ENABLE_CPU_FEATURES="X86_V2",
        )  # fmt: skip
        seen = pins_seen(installed, env)
        assert seen["threads"] == 2 and seen["capability"] == "DEFAULT"
        assert seen["numpy_features"] == []  # theirs: numpy imports (it refuses both variables)
        result = check(run([str(installed.bin / "autoseed"), "status", "--json"], env=env))
        pins = json.loads(result.stdout)["portable"]["pins"]
        assert pins["OMP_NUM_THREADS"] == {"value": "2", "by": "user"}
        assert pins["ATEN_CPU_CAPABILITY"] == {"value": "default", "by": "user"}
        assert pins["NPY_ENABLE_CPU_FEATURES"] == {"value": "X86_V2", "by": "user"}
        assert "NPY_DISABLE_CPU_FEATURES" not in pins
        # One thread count for every library: the user's (torch reads MKL's over OpenMP's).
        assert pins["MKL_NUM_THREADS"] == {"value": "2", "by": "autoseed"}
        assert pins["MKL_CBWR"] == {"value": "AVX2", "by": "autoseed"} or not AVX2
        text = check(run([str(installed.bin / "autoseed"), "status"], env=env)).stdout
        assert "  OMP_NUM_THREADS='2' (set by you: it wins over the pin)" in text
        assert "  MKL_NUM_THREADS='2' (pinned by autoseed)" in text
        assert "portable: 2 threads, the count you set, pins in force:" in text

    def test_two_thread_counts_of_yours_are_said(self, installed: Venv) -> None:
        env = clean_env(AUTOSEED_PORTABLE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="2")
        said = "AUTOSEED_PORTABLE: you set OMP_NUM_THREADS='1' and MKL_NUM_THREADS='2'"
        result = check(installed.run("-c", "import numpy, torch", env=env))
        assert result.stderr.count(said) == 1, describe(result)
        text = check(run([str(installed.bin / "autoseed"), "status"], env=env)).stdout
        assert said in text, text

    def test_children_compute_as_their_parent(self, installed: Venv, tmp_path: Path) -> None:
        """From a .env, the setting reaches a child started elsewhere, which applies all of it
        and tells the pins it inherited from the user's."""
        project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
        project.mkdir()
        elsewhere.mkdir()
        (project / ".env").write_text("AUTOSEED_PORTABLE=1\n")
        (elsewhere / "pins.py").write_text(PINS)
        (elsewhere / "status.py").write_text(
            "import json\nfrom autoseed.start.status import build_status\n"
            "print(json.dumps(build_status()['portable']['pins']))\n"
        )
        parent = (
            "import subprocess, sys\n"
            "for script in ('pins.py', 'status.py'):\n"
            f"    subprocess.run([sys.executable, script, *sys.argv[1:]], cwd={str(elsewhere)!r},"
            " check=True)\n"
        )
        result = check(installed.run("-c", parent, *PIN_VARIABLES, cwd=project))
        child, status = (json.loads(line) for line in result.stdout.splitlines())
        assert child["threads"] == 1 and child["matmul"] == "ieee", describe(result)
        assert child["environ"]["OMP_NUM_THREADS"] == "1"
        if AVX2:
            assert child["capability"] == "AVX2"
        assert status["OMP_NUM_THREADS"] == {"value": "1", "by": "autoseed"}, describe(result)

    def test_seed_everything_keeps_the_pins_for_children(self, installed: Venv) -> None:
        """The pins were read when the libraries loaded: a seed set in code keeps the setting,
        so that children still compute as the parent does."""
        code = (
            "import os, subprocess, sys, autoseed\n"
            "autoseed.seed_everything(3)\n"
            "print(os.environ['AUTOSEED_PORTABLE'])\n"
            f"subprocess.run([sys.executable, '-c', {PINS!r}, *sys.argv[1:]], check=True)\n"
        )
        result = check(
            installed.run("-c", code, "OMP_NUM_THREADS", env=clean_env(AUTOSEED_PORTABLE="1"))
        )
        exported, child = result.stdout.splitlines()
        assert exported == "1", describe(result)
        seen = json.loads(child)
        assert seen["threads"] == 1 and seen["matmul"] == "ieee", describe(result)

    @needs_two_cpus
    def test_more_threads_than_cpus_is_said(self, installed: Venv) -> None:
        argv = [str(TASKSET), "-c", "0", str(installed.python), "-c", "import numpy"]
        result = check(run(argv, env=clean_env(AUTOSEED_PORTABLE="2")))
        assert result.stderr == (
            "autoseed: AUTOSEED_PORTABLE: 2 threads, but this process may use only 1 CPU, and "
            "OpenBLAS uses at most that many threads: numpy's results may differ from a machine "
            "with 2\n"
        )

    def test_inductor_stays_deterministic_through_torch_compile(self, installed: Venv) -> None:
        code = (
            "import torch\n"
            "for _ in range(2):\n"
            "    torch.compile(lambda x: x * 2, backend='eager')(torch.ones(2))\n"
            "import torch._inductor.config as config\n"
            "print(config.deterministic)\n"
        )
        result = check(installed.run("-c", code, env=clean_env(AUTOSEED_PORTABLE="1")))
        assert result.stdout == "True\n", describe(result)

    def test_an_invalid_value_refuses_numpy_in_one_line(self, installed: Venv) -> None:
        result = installed.run("-c", "import numpy", env=clean_env(AUTOSEED_PORTABLE="fast"))
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == (
            "autoseed: AUTOSEED_PORTABLE='fast' (from the environment) is not valid; expected "
            "1/true/yes/on (pinned, 1 thread), a thread count 1..1024, or 0/false/no/off (off; "
            "empty means off); importing numpy or torch fails until this is fixed"
        )
