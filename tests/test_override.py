"""AUTOSEED_OVERRIDE=1: a script's literal seeds follow AUTOSEED, through real processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

LITERAL_SEEDS = """
import pickle, random, sys
import numpy as np, torch
offset = int(sys.argv[1])
random.seed(42 + offset); np.random.seed(42 + offset); torch.manual_seed(42 + offset)
draws = [random.random(), np.random.rand(), float(torch.rand(1))]
draws += [np.random.default_rng(7).random(), np.random.RandomState(7).rand()]
draws += [random.Random(7).random(), np.random.default_rng(np.random.SeedSequence(7)).random()]
torch.cuda.manual_seed_all(3)
random.seed(42 + offset)
draws.append(random.random())  # the same call again: the same stream again
assert isinstance(np.random.mtrand._rand, np.random.RandomState)
pickle.loads(pickle.dumps(np.random.RandomState(1)))
class Own(np.random.RandomState):  # a script's own subclass claims only its own instances
    pass
assert isinstance(Own(1), np.random.RandomState) and issubclass(Own, np.random.RandomState)
assert not isinstance(np.random.RandomState(1), Own) and not issubclass(np.random.RandomState, Own)
for _ in range(3):
    random.seed(5)
print(*draws)
"""


def draws(venv: Venv, script: Path, offset: int = 0, **env: str) -> list[str]:
    result = check(venv.run(str(script), str(offset), env=clean_env(**env)))
    values = result.stdout.split()
    assert len(values) == 8, describe(result)
    return values


def test_literal_seeds_follow_autoseed(installed: Venv, tmp_path: Path) -> None:
    script = tmp_path / "literal.py"
    script.write_text(LITERAL_SEEDS)
    own = draws(installed, script)
    assert draws(installed, script, AUTOSEED="1") == own, "without the switch the script's wins"
    first = draws(installed, script, AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    assert draws(installed, script, AUTOSEED="1", AUTOSEED_OVERRIDE="1") == first
    second = draws(installed, script, AUTOSEED="2", AUTOSEED_OVERRIDE="1")
    assert not set(first) & set(own), "every literal seed was replaced"
    assert not set(first) & set(second), "another AUTOSEED, other runs"
    assert first[-1] == first[0], "the same call repeated gives the same stream"
    # An offset the script adds itself never collides across AUTOSEED values.
    shifted = draws(installed, script, 1, AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    assert shifted[:3] != second[:3] and shifted[:3] != first[:3]


def test_each_replacement_is_said_once_with_its_line(installed: Venv, tmp_path: Path) -> None:
    script = tmp_path / "literal.py"
    script.write_text(LITERAL_SEEDS)
    env = clean_env(AUTOSEED="1", AUTOSEED_OVERRIDE="1", AUTOSEED_VERBOSE="1")
    result = check(installed.run(str(script), "0", env=env))
    lines = [line for line in result.stderr.splitlines() if "(AUTOSEED_OVERRIDE)" in line]
    first = lines[0]
    assert first.startswith("autoseed: random.seed: 42 replaced by "), first
    assert first.endswith(f"{script}:5") and lines.count(first) == 1, describe(result)
    assert sum(": 5 replaced by" in line for line in lines) == 1, "the same call is said once"
    apis = {line.split(":")[1].strip() for line in lines}
    assert {"random.seed", "numpy.random.seed", "torch.manual_seed", "numpy.random.default_rng",
            "numpy.random.RandomState", "random.Random", "numpy.random.SeedSequence",
            "torch.cuda.manual_seed_all"} <= apis, apis  # fmt: skip


@pytest.mark.parametrize(
    ("package", "call"),
    [
        ("lightning", "from lightning import seed_everything; seed_everything(42)"),
        ("transformers", "from transformers import set_seed; set_seed(42)"),
        ("accelerate", "from accelerate.utils import set_seed; set_seed(42)"),
    ],
)
def test_a_frameworks_seed_function_follows_autoseed(
    tmp_path: Path, package: str, call: str
) -> None:
    """Through the calls it makes: Lightning's seed_everything(42), transformers' and
    accelerate's set_seed(42), from this test run's own `.venv` (all three are test
    dependencies)."""
    pytest.importorskip(package)
    code = (
        "import random, numpy as np, torch\n"
        f"{call}\n"
        "print(random.random(), np.random.rand(), torch.rand(1).item())\n"
    )

    def draws(**env: str) -> str:
        result = run([sys.executable, "-c", code], env=clean_env(**env), cwd=tmp_path)
        assert result.returncode == 0, describe(result)
        return result.stdout

    own = draws()
    first = draws(AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    assert draws(AUTOSEED="1", AUTOSEED_OVERRIDE="1") == first
    assert first != own and draws(AUTOSEED="2", AUTOSEED_OVERRIDE="1") != first
    assert draws(AUTOSEED="1") == own, "without the switch Lightning's seed wins"
