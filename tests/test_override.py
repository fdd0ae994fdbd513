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


# Every kind of argument the seeding functions accept, and some they refuse (the refusal, an
# exception's name, must be the same with and without the override).
EVERY_ARGUMENT = """
import random
import numpy as np, torch
g = np.random

def draw(name, make):
    try:
        value = make()
    except Exception as error:
        value = type(error).__name__
    print(f"{name}: {value if isinstance(value, (str, float, list)) else 'accepted'}")

def seeded(seed, value):
    seed()
    return value()

draw("random str", lambda: seeded(lambda: random.seed("hello"), random.random))
draw("random bytes", lambda: seeded(lambda: random.seed(b"hello"), random.random))
draw("random bytearray", lambda: seeded(lambda: random.seed(bytearray(b"hi")), random.random))
draw("random float", lambda: seeded(lambda: random.seed(2.5), random.random))
draw("Random str", lambda: random.Random("abc").random())
draw("seed array", lambda: seeded(lambda: g.seed(np.array([1, 2, 3, 4], dtype=np.uint32)), g.rand))
draw("seed list", lambda: seeded(lambda: g.seed([5, 6]), g.rand))
draw("seed uint32", lambda: seeded(lambda: g.seed(np.uint32(7)), g.rand))
draw("default_rng arange", lambda: g.default_rng(np.arange(4)).random())
draw("default_rng list", lambda: g.default_rng([1, 2, 3]).random())
draw("RandomState array", lambda: g.RandomState(np.array([1, 2])).rand())
legacy = g.RandomState(1)
draw("RandomState.seed", lambda: seeded(lambda: legacy.seed(np.array([3])), legacy.rand))
draw("SeedSequence array", lambda: g.default_rng(g.SeedSequence(np.arange(3))).random())
draw("Generator(PCG64)", lambda: g.Generator(g.PCG64(1234)).random())
draw("default_rng(PCG64)", lambda: g.default_rng(g.PCG64(7)).random())
for name in ("MT19937", "PCG64DXSM", "Philox", "SFC64"):
    draw(name, lambda name=name: g.Generator(getattr(g, name)(5)).random())
draw("spawned", lambda: [g.default_rng(c).random() for c in g.SeedSequence(12345).spawn(2)])
draw("torch tensor", lambda: seeded(lambda: torch.manual_seed(torch.tensor(3)), torch.rand(1).item))
draw("torch numpy", lambda: seeded(lambda: torch.manual_seed(np.int64(3)), torch.rand(1).item))
draw("refused seed", lambda: g.seed(-1))
draw("refused seed range", lambda: g.seed(2**40))
draw("refused SeedSequence", lambda: g.SeedSequence(-1))
draw("refused SeedSequence str", lambda: g.SeedSequence("abc"))
draw("refused default_rng", lambda: g.default_rng(1.5))
draw("refused RandomState", lambda: g.RandomState([-1]))
draw("refused random", lambda: random.seed([1, 2]))
draw("refused torch", lambda: torch.manual_seed("abc"))
"""


def test_every_seed_the_libraries_accept_is_replaced(installed: Venv, tmp_path: Path) -> None:
    """Arrays and sequences of ints, str/bytes, bit generators, spawned seed sequences: each
    replaced under the override (repeatably, AUTOSEED-dependently); what a library refuses it
    still refuses."""
    script = tmp_path / "every_argument.py"
    script.write_text(EVERY_ARGUMENT)

    def lines(**env: str) -> dict[str, str]:
        result = check(installed.run(str(script), env=clean_env(**env)))
        found = dict(line.split(": ", 1) for line in result.stdout.splitlines())
        assert len(found) == 30, describe(result)
        return found

    own = lines()
    first = lines(AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    # Without the restart that fixes PYTHONHASHSEED: str() hashes differ, replacements do not.
    assert lines(AUTOSEED="1", AUTOSEED_OVERRIDE="1", AUTOSEED_HASHSEED="0") == first
    second = lines(AUTOSEED="2", AUTOSEED_OVERRIDE="1")
    refused = {name for name in own if name.startswith("refused")}
    for name in refused:
        assert own[name].endswith("Error") and first[name] == own[name], (name, own, first)
    for name in set(own) - refused:
        assert not own[name][0].isalpha(), f"{name} failed without autoseed: {own[name]}"
        assert first[name] != own[name] and second[name] != first[name], (name, own, first)


def test_seeds_numpy_makes_in_compiled_code_are_said_with_their_line(
    installed: Venv, tmp_path: Path
) -> None:
    script = tmp_path / "bit_generator.py"
    script.write_text(
        "import numpy as np\n"
        "rng = np.random.Generator(np.random.PCG64(1234))\n"
        "np.random.seed(np.arange(624))\n"
    )
    env = clean_env(AUTOSEED="1", AUTOSEED_OVERRIDE="1", AUTOSEED_VERBOSE="1")
    result = check(installed.run(str(script), env=env))
    lines = result.stderr.splitlines()
    said = [line for line in lines if ": 1234 replaced by " in line]
    assert len(said) == 1 and said[0].endswith(f"(AUTOSEED_OVERRIDE) at {script}:2"), describe(
        result
    )
    (long,) = [line for line in lines if "numpy.random.seed: (0, 1, 2" in line]
    assert "... (length 624, sha256 " in long and len(long) < 200 + len(str(script)), long


# numpy's documented pattern for parallel streams (SeedSequence.spawn handed to Pool.map), in
# fresh interpreters; every object the override hands out crosses the process boundary.
POOL = """
import multiprocessing, pickle
import numpy as np

def draw(child):
    assert type(child) is np.random.SeedSequence, type(child)
    return float(np.random.default_rng(child).random())

def legacy(state):
    assert type(state) is np.random.RandomState and isinstance(state, np.random.RandomState)
    return float(state.rand())

def generator(rng):
    assert type(rng.bit_generator) is np.random.PCG64, type(rng.bit_generator)
    return float(rng.random())

if __name__ == "__main__":
    children = np.random.SeedSequence(12345).spawn(4)
    states = [np.random.RandomState(7), np.random.RandomState(np.array([8, 9]))]
    rngs = [np.random.Generator(np.random.PCG64(3)), np.random.default_rng([4, 5])]
    here = [draw(c) for c in children] + [legacy(s) for s in pickle.loads(pickle.dumps(states))]
    here += [generator(r) for r in pickle.loads(pickle.dumps(rngs))]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        there = pool.map(draw, children) + pool.map(legacy, states) + pool.map(generator, rngs)
    assert there == here, (there, here)
    print(*there)
"""


def test_spawned_seed_sequences_go_to_a_pool_of_fresh_interpreters(
    installed: Venv, tmp_path: Path
) -> None:
    script = tmp_path / "pool.py"
    script.write_text(POOL)

    def draws(**env: str) -> list[str]:
        result = check(installed.run(str(script), env=clean_env(**env)))
        return result.stdout.split()

    own = draws()
    first = draws(AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    assert len(first) == 8 and draws(AUTOSEED="1", AUTOSEED_OVERRIDE="1") == first
    second = draws(AUTOSEED="2", AUTOSEED_OVERRIDE="1")
    assert not set(first) & set(own) and not set(first) & set(second), (own, first, second)


def test_a_lightning_script_with_loader_workers_sweeps(tmp_path: Path) -> None:
    """`autoseed sweep` over a real Lightning Trainer after `seed_everything(42, workers=True)`,
    with 2 DataLoader workers (from this test run's own `.venv`, where Lightning is a test
    dependency): each worker's `pl_worker_init_function` seeds numpy with an array."""
    pytest.importorskip("lightning")
    script = str(Path(__file__).parent / "scripts" / "sweep_lightning.py")
    autoseed = str(Path(sys.executable).parent / "autoseed")
    result = run([autoseed, "sweep", "1,2", "-j", "2", "--out", "runs", "--", sys.executable,
                  script], env=clean_env(), cwd=tmp_path, timeout=600)  # fmt: skip
    assert result.returncode == 0, describe(result)
    losses = [(tmp_path / "runs" / f"seed-{seed}" / "stdout").read_text() for seed in (1, 2)]
    assert all(loss.startswith("loss ") for loss in losses) and losses[0] != losses[1], losses
    alone = run([sys.executable, script], env=clean_env(AUTOSEED="1", AUTOSEED_OVERRIDE="1"),
                cwd=tmp_path, timeout=300)  # fmt: skip
    assert alone.returncode == 0 and alone.stdout == losses[0], describe(alone)


def test_a_loader_workers_own_seeding_is_kept(installed: Venv, tmp_path: Path) -> None:
    """torch seeds each worker from a base seed that follows AUTOSEED already: the override
    leaves it, so that torch.initial_seed() is the worker's seed, as worker_init_fn's expect."""
    script = tmp_path / "workers.py"
    script.write_text(
        "import torch\n"
        "from torch.utils.data import DataLoader, Dataset, get_worker_info\n"
        "class Items(Dataset):\n"
        "    def __len__(self): return 2\n"
        "    def __getitem__(self, i):\n"
        "        info = get_worker_info()\n"
        "        return torch.tensor([info.id, info.seed == torch.initial_seed()])\n"
        "if __name__ == '__main__':\n"
        "    torch.manual_seed(0)\n"
        "    print([b.tolist() for b in DataLoader(Items(), batch_size=1, num_workers=2)])\n"
    )
    env = clean_env(AUTOSEED="1", AUTOSEED_OVERRIDE="1")
    result = check(installed.run(str(script), env=env, cwd=tmp_path))
    assert result.stdout == "[[[0, 1]], [[1, 1]]]\n", describe(result)
