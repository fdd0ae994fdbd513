"""`autoseed verify --save` on this machine, `--against` on "another": the same machine under
`taskset -c 0` (one CPU, so other thread counts), through the installed command. A reference
is data from disk: whatever lies at its path, the check says so and exits 2, never hangs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import Venv, clean_env, describe, run, write_script

pytestmark = pytest.mark.slow

# torch's sum splits its work by the thread count, and so does OpenBLAS's solve.
THREAD_DEPENDENT = (
    "import numpy as np, torch\n"
    "x = torch.randn(1 << 20)\n"
    "a = np.random.rand(160, 160)\n"
    "print(repr(x.sum().item()), repr(x.exp().mean().item()))\n"
    "print(repr(float(np.linalg.solve(a + 160 * np.eye(160), a).sum())))\n"
)
one_cpu = pytest.mark.skipif(
    shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2,
    reason="needs taskset and two CPUs",
)


def across(
    venv: Venv, script: Path, *options: str, prefix: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """``[prefix] autoseed verify OPTIONS -- python script``, from the script's folder."""
    argv = [*prefix, str(venv.bin / "autoseed"), "verify", *options, "--",
            str(venv.python), str(script)]  # fmt: skip
    result = run(argv, env=clean_env(**env), cwd=script.parent, timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    return result


def saved(venv: Venv, script: Path, reference: Path, **env: str) -> dict[str, Any]:
    result = across(venv, script, "--save", str(reference), **env)
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith(f"saved the reference {reference} (AUTOSEED="), describe(result)
    data: dict[str, Any] = json.loads(reference.read_text())
    return data


def test_a_reference_saved_here_matches_here(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "train.py", THREAD_DEPENDENT)
    data = saved(installed, script, tmp_path / "ref.json", AUTOSEED="7")
    assert data["seed"] == 7 and set(data["outputs"]) == {"stdout"}, data
    assert data["fingerprint"]["versions"]["torch"], data
    result = across(installed, script, "--against", str(tmp_path / "ref.json"))
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith(f"matches the reference {tmp_path / 'ref.json'} (AUTOSEED=7)")


@one_cpu
def test_one_cpu_names_the_thread_difference_and_the_portable_mode(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "train.py", THREAD_DEPENDENT)
    reference = tmp_path / "ref.json"
    saved(installed, script, reference, AUTOSEED="7")  # a seed whose sum differs: measured
    result = across(installed, script, "--against", str(reference), prefix=("taskset", "-c", "0"))
    assert result.returncode == 1, describe(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"differs from the reference {reference}"), describe(result)
    assert "this machine differs from the reference's in:" in lines, describe(result)
    threads = os.sched_getaffinity(0)
    assert f"  threads: torch intra-op threads 1 here, {len(threads)} in the reference" in lines
    assert "  probe: torch.sum on fixed inputs" in result.stdout, describe(result)
    assert lines[-1].startswith("AUTOSEED_PORTABLE=1 pins ") and "threads" in lines[-1]


@one_cpu
def test_with_the_threads_pinned_one_cpu_gives_the_same_bits(
    installed: Venv, tmp_path: Path
) -> None:
    """The pins by hand (the same thread count everywhere) that the portable mode sets."""
    script = write_script(tmp_path, "train.py", THREAD_DEPENDENT)
    pins = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    reference = tmp_path / "ref.json"
    saved(installed, script, reference, AUTOSEED="7", **pins)
    result = across(installed, script, "--against", str(reference),
                    prefix=("taskset", "-c", "0"), **pins)  # fmt: skip
    assert result.returncode == 0, describe(result)
    assert "the outputs agree although this machine differs" in result.stdout, describe(result)
    assert "  CPUs: usable CPUs 1 here" in result.stdout, describe(result)


def portable_on_both_sides(venv: Venv, script: Path) -> subprocess.CompletedProcess[str]:
    """Saved with AUTOSEED_PORTABLE on two CPUs, checked with it on one."""
    reference = script.parent / "ref.json"
    saved(venv, script, reference, AUTOSEED="7", AUTOSEED_PORTABLE="1")
    return across(venv, script, "--against", str(reference),
                  prefix=("taskset", "-c", "0"), AUTOSEED_PORTABLE="1")  # fmt: skip


@one_cpu
def test_with_the_portable_mode_one_cpu_gives_the_same_bits(
    installed: Venv, tmp_path: Path
) -> None:
    """AUTOSEED_PORTABLE on both machines: the reference saved on two CPUs is met on one."""
    result = portable_on_both_sides(installed, write_script(tmp_path, "train.py", THREAD_DEPENDENT))
    assert result.returncode == 0, describe(result)
    assert "  CPUs: usable CPUs 1 here" in result.stdout, describe(result)


@one_cpu
def test_with_the_mode_on_both_sides_a_difference_of_the_command_is_not_blamed_on_the_pins(
    installed: Venv, tmp_path: Path
) -> None:
    """The CPU count alone decides no bit: a clock-dependent command differs, and the check
    says the difference is not the machine's, blaming no pin."""
    clock = write_script(tmp_path, "clock.py", "import time\nprint(time.time())\n")
    result = portable_on_both_sides(installed, clock)
    assert result.returncode == 1, describe(result)
    assert "the fingerprints agree on all that decides the bits" in result.stdout, describe(result)
    assert "by hand" not in result.stdout, describe(result)


@one_cpu
def test_a_reference_saved_with_the_mode_asks_for_it_here(installed: Venv, tmp_path: Path) -> None:
    """Saved with the mode (one thread), checked without it on two CPUs: the thread-dependent
    sums differ, and the last line names the setting to add."""
    script = write_script(tmp_path, "train.py", THREAD_DEPENDENT)
    reference = tmp_path / "ref.json"
    saved(installed, script, reference, AUTOSEED="7", AUTOSEED_PORTABLE="1")
    result = across(installed, script, "--against", str(reference))
    assert result.returncode == 1, describe(result)
    last = result.stdout.splitlines()[-1]
    assert last == "the reference was saved with AUTOSEED_PORTABLE=1: set it here too", last


def test_an_invalid_setting_is_a_usage_error_before_anything_runs(
    installed: Venv, tmp_path: Path
) -> None:
    """The reference gives the seed; the environment's other settings are still checked first."""
    script = write_script(tmp_path, "train.py", "print(1)\n")
    reference = tmp_path / "ref.json"
    saved(installed, script, reference, AUTOSEED="7")
    result = across(installed, script, "--against", str(reference), AUTOSEED_DETERMINISTIC="maybe")
    assert result.returncode == 2, describe(result)
    assert "AUTOSEED_DETERMINISTIC='maybe'" in result.stderr, describe(result)
    assert "verify: run" not in result.stderr and result.stdout == "", describe(result)


def _valid_reference(installed: Venv, tmp_path: Path) -> dict[str, Any]:
    script = write_script(tmp_path, "train.py", "print(1)\n")
    return saved(installed, script, tmp_path / "good.json", AUTOSEED="3")


UNUSABLE = {
    "a FIFO": ("fifo", "is not a regular file"),
    "/dev/zero": ("/dev/zero", "is not a regular file"),
    "a directory": ("folder", "is not a regular file"),
    "missing": ("missing.json", "cannot be read (No such file or directory)"),
    "not JSON": ("text.json", "is damaged (it is not JSON)"),
    "too large": ("large.json", "is larger than 1048576 bytes"),
    "foreign JSON": ("foreign.json", "is not a reference that `autoseed verify --save` wrote"),
    "another version": ("version.json", "is a reference of version 99"),
    "a damaged seed": ("seed.json", 'is damaged: "seed" is not an integer'),
    "a damaged fingerprint": (
        "fingerprint.json",
        'is damaged: the fingerprint\'s "probe" is missing',
    ),
}


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_an_unusable_reference_exits_2_naming_it(
    installed: Venv, tmp_path: Path, kind: str
) -> None:
    name, said = UNUSABLE[kind]
    good = _valid_reference(installed, tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    (tmp_path / "text.json").write_text("{'seed': 3")
    (tmp_path / "large.json").write_text(" " * (1 << 21))
    (tmp_path / "foreign.json").write_text('{"seed": 3}')
    (tmp_path / "version.json").write_text(json.dumps({**good, "version": 99}))
    (tmp_path / "seed.json").write_text(json.dumps({**good, "seed": "3"}))
    fingerprint = {key: value for key, value in good["fingerprint"].items() if key != "probe"}
    (tmp_path / "fingerprint.json").write_text(json.dumps({**good, "fingerprint": fingerprint}))
    result = across(installed, tmp_path / "train.py", "--against", name)
    assert result.returncode == 2 and result.stdout == "", describe(result)
    # One line, naming the reference, before anything is run.
    assert result.stderr.startswith(f"autoseed: verify: --against {name}: {said}"), describe(result)
    assert result.stderr.count("\n") == 1, describe(result)


def test_a_reference_that_compares_a_device_never_hangs(installed: Venv, tmp_path: Path) -> None:
    good = _valid_reference(installed, tmp_path)
    good["compared"]["files"] = ["/dev/zero"]
    good["outputs"]["/dev/zero"] = "0" * 64
    (tmp_path / "zero.json").write_text(json.dumps(good))
    result = across(installed, tmp_path / "train.py", "--against", "zero.json")
    assert result.returncode == 1, describe(result)
    assert "did not write /dev/zero: is not a regular file" in result.stdout, describe(result)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--save", "fifo"], "--save fifo: is not a regular file"),
        (["--save", "r.json", "--runs", "3"], "--save runs the command once; --runs"),
        (["--against", "good.json", "--seed", "4"], "--seed 4: good.json was saved with 3"),
        (["--against", "good.json", "--stderr"], "--stderr: good.json decides what is compared"),
        (["--save", "a.json", "--against", "good.json"], "not allowed with argument"),
    ],
)
def test_options_that_contradict_a_reference_are_usage_errors(
    installed: Venv, tmp_path: Path, options: list[str], said: str
) -> None:
    _valid_reference(installed, tmp_path)
    os.mkfifo(tmp_path / "fifo")
    result = across(installed, tmp_path / "train.py", *options)
    assert result.returncode == 2 and said in result.stderr, describe(result)
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "a.json").exists()


def test_a_compared_fifo_fails_the_run_and_is_never_waited_on(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "train.py", "print(1)\n")
    os.mkfifo(tmp_path / "out.fifo")
    result = across(installed, script, "--compare", "out.fifo")
    assert result.returncode == 1, describe(result)
    assert "did not write out.fifo: is not a regular file" in result.stdout, describe(result)
