"""AUTOSEED_ADDRESSES=fixed: object-address order (a set of objects) repeats, through real
restarts; where the system refuses, one line and the run goes on."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from conftest import BASE_PYTHON, Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "scripts"
# A float sum over a set of objects: the set's order follows id(), i.e. memory addresses.
SET_OF_OBJECTS = (
    "class Node:\n"
    "    def __init__(self, value):\n"
    "        self.value = value\n"
    "nodes = {Node(0.1 * i + 1e-3 * (i % 7)) for i in range(20000)}\n"
    "total = 0.0\n"
    "for node in nodes:\n"
    "    total += node.value * 1e-7 + node.value ** 3\n"
    "print(repr(total))\n"
)
REFUSED = "AUTOSEED_ADDRESSES=fixed: the system refused personality(ADDR_NO_RANDOMIZE)"


def sums(venv: Venv, script: Path, runs: int, **env: str) -> set[str]:
    return {check(venv.run(str(script), env=clean_env(**env))).stdout for _ in range(runs)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="personality(2) is Linux's")
def test_a_set_of_objects_repeats_only_with_fixed_addresses(
    installed: Venv, tmp_path: Path
) -> None:
    script = tmp_path / "objects.py"
    script.write_text(SET_OF_OBJECTS)
    assert len(sums(installed, script, 4, AUTOSEED="1024")) > 1, "the seed alone cannot fix it"
    assert len(sums(installed, script, 4, AUTOSEED="1024", AUTOSEED_ADDRESSES="fixed")) == 1
    fixed = clean_env(AUTOSEED="1", AUTOSEED_ADDRESSES="fixed")
    status = check(installed.run("-m", "autoseed", "status", env=fixed))
    assert "ASLR) off, a security mitigation disabled" in status.stdout, describe(status)
    child = check(installed.run(
        "-c", "import subprocess\n"
        "print(open('/proc/self/personality').read().strip(), subprocess.run("
        "['cat', '/proc/self/personality'], capture_output=True, text=True).stdout.strip())",
        env=fixed,
    ))  # fmt: skip
    assert child.stdout.split() == ["00040000", "00040000"], "the flag reaches children too"


X86_64_LINUX = platform.machine() == "x86_64" and sys.platform.startswith("linux")


@pytest.mark.skipif(not X86_64_LINUX, reason="the helper's seccomp filter is for x86-64 Linux")
def test_a_refusal_is_one_line_and_the_run_goes_on(installed: Venv, tmp_path: Path) -> None:
    script = tmp_path / "objects.py"
    script.write_text(SET_OF_OBJECTS + "import numpy\n")
    # The helper runs where autoseed is not installed: it must not fix its own addresses.
    result = run(
        [BASE_PYTHON, str(SCRIPTS / "no_personality.py"), str(installed.python), str(script)],
        env=clean_env(AUTOSEED="1024", AUTOSEED_ADDRESSES="fixed"),
    )
    assert result.returncode == 0 and result.stdout, describe(result)
    assert result.stderr.count(REFUSED) == 1 and "Traceback" not in result.stderr, describe(result)


def test_an_invalid_value_is_one_clear_line(installed: Venv) -> None:
    result = installed.run(
        "-c", "import numpy", env=clean_env(AUTOSEED="1", AUTOSEED_ADDRESSES="fixd")
    )
    assert "AUTOSEED_ADDRESSES='fixd' (from the environment) is not valid; expected 'fixed'" in (
        result.stderr
    ), describe(result)
