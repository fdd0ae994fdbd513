"""`autoseed verify --explain`, through the installed command, on small scripts written here."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import LEGACY_SCRIPT, Venv, check, clean_env, describe, verify_script, write_script

pytestmark = pytest.mark.slow


def explain(venv: Venv, script: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return verify_script(venv, script, "--explain", *extra, **env)


def test_an_unseeded_torch_generator_is_named_at_once(installed: Venv, tmp_path: Path) -> None:
    """The ledger names the cause in the first traced runs: no fix is tried, no operator is
    traced; the operator trace of the same script finds the random operator."""
    script = write_script(tmp_path, "generator.py", GENERATOR_SEEDED_BY_THE_OS)
    result = explain(installed, script)
    assert result.returncode == 1, describe(result)
    out = result.stdout
    # The traced runs see the C method's call through a profile hook, with the seed it left.
    assert "seeds: torch.Generator.seed got " in out and f"in run 2, at {script}:3\n" in out
    assert "cause: a seed call takes another value in each run" in out, describe(result)
    assert "with " not in result.stderr and "operator-traced" not in result.stderr, "no more runs"
    assert result.stderr.count("autoseed: verify: ") == 4, describe(result)
    found = traced_difference(installed, script, tmp_path)
    assert found["kind"] == "random operator", found
    assert found["call"]["where"] == f"{script}:5", found
    assert found["call"]["source"] == "noise = torch.rand(3, generator=g)", found
    assert found["call_before"]["where"] == f"{script}:4", found
    assert found["call_before"]["operator"] == "aten.mul.Tensor", found


GENERATOR_SEEDED_BY_THE_OS = (
    "import torch\n"
    "g = torch.Generator()\n"
    "g.seed()\n"
    "x = torch.ones(3) * 2\n"
    "noise = torch.rand(3, generator=g)\n"
    "print((x + noise).sum().item())\n"
)


def traced_difference(installed: Venv, script: Path, tmp_path: Path) -> dict[str, Any]:
    """Two runs of ``script`` with the operator trace, compared as ``--explain`` compares them."""
    from autoseed.verify.explain import compare_traces

    folders = [tmp_path / "operators-1", tmp_path / "operators-2"]
    for folder in folders:
        folder.mkdir()
        check(installed.run(str(script), env=clean_env(AUTOSEED="1", _AUTOSEED_TRACE=str(folder)),
                            cwd=tmp_path))  # fmt: skip
    found = compare_traces(str(folders[0]), str(folders[1]))
    assert found is not None and found["difference"] is not None, found
    return found["difference"]  # type: ignore[no-any-return]


def test_a_torch_seed_from_the_clock_after_an_optimizer_is_named_at_its_line(
    installed: Venv, tmp_path: Path
) -> None:
    """torch.optim imports torch._dynamo, which wraps torch.manual_seed in a frame of its own:
    the ledger still names the script's line, and the clock read on it."""
    script = write_script(tmp_path, "optimizer.py", (
        "import time\n"
        "import torch\n"
        "model = torch.nn.Linear(2, 1)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "torch.manual_seed(int(time.time() * 1000) % 2**32)\n"
        "print(torch.rand(2).tolist())\n"
    ))  # fmt: skip
    result = explain(installed, script)
    assert result.returncode == 1, describe(result)
    out = result.stdout
    assert "seeds: torch.manual_seed got " in out and f"in run 2, at {script}:5\n" in out, out
    assert f"  time.time at {script}:5\n" in out, out
    assert "eval_frame" not in out and "cause: a seed call" in out, out
    assert "with " not in result.stderr, "no fix was tried"


def test_system_random_and_secrets_are_named_with_their_lines(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "entropy.py", (
        "import random\n"
        "import secrets\n"
        "draw = random.SystemRandom()\n"
        "print(draw.randint(0, 10**9))\n"
        "print(secrets.token_hex(8))\n"
    ))  # fmt: skip
    result = explain(installed, script)
    assert result.returncode == 1, describe(result)
    out = result.stdout
    assert f"  random.SystemRandom.randint at {script}:4\n" in out, describe(result)
    assert f"  secrets.token_hex at {script}:5\n" in out, describe(result)
    assert "cause: the output depends on a read of what no seed controls" in out
    assert "with " not in result.stderr, "no fix was tried"


WORKERS_PRINTING = """
import torch
from torch.utils.data import DataLoader, Dataset


class Numbers(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, index):
        worker = torch.utils.data.get_worker_info().id
        print("worker", worker, "item", index, *range(30))
        return torch.tensor([float(index)])


if __name__ == "__main__":
    loader = DataLoader(Numbers(), batch_size=8, num_workers=2)
    print(sum(batch.sum().item() for batch in loader))
"""


def test_workers_writing_within_each_others_lines_are_named(
    installed: Venv, tmp_path: Path
) -> None:
    """Unbuffered (PYTHONUNBUFFERED, as many containers set it), each print() of a worker
    writes its parts apart, and the workers' lines mix: explain names that, and no operator
    (the main process takes in the workers' batches in the order they arrive)."""
    script = write_script(tmp_path, "workers.py", WORKERS_PRINTING)
    result = explain(installed, script, "--runs", "6", PYTHONUNBUFFERED="1")
    assert result.returncode == 1, describe(result)
    out = result.stdout
    assert "stdout differs from run 1" in out, describe(result)
    assert "cause: 3 processes wrote to stdout, each the same text in both traced runs" in out
    assert "aten." not in out and "where:" not in out, describe(result)
    assert "with " not in result.stderr, "no fix was tried"


def test_batches_taken_in_another_order_blame_no_operator(installed: Venv, tmp_path: Path) -> None:
    """Workers that finish their batches in another order in each run: the main process's
    operator calls are the same calls in another order, and none of them is blamed."""
    script = write_script(tmp_path, "arrival.py", (
        "import os, time, torch\n"
        "from torch.utils.data import DataLoader, Dataset\n"
        "class Slow(Dataset):\n"
        "    def __len__(self):\n"
        "        return 32\n"
        "    def __getitem__(self, index):\n"
        "        time.sleep(os.urandom(1)[0] / 4000)  # timing only; the data is fixed\n"
        "        return torch.tensor([float(index)])\n"
        "if __name__ == '__main__':\n"
        "    loader = DataLoader(Slow(), batch_size=4, num_workers=2)\n"
        "    print(sum(batch.sum().item() for batch in loader))\n"
    ))  # fmt: skip
    from autoseed.verify.explain import compare_traces

    for attempt in range(3):
        folders = [tmp_path / f"{attempt}-{i}" for i in (1, 2)]
        for folder in folders:
            folder.mkdir()
            env = clean_env(AUTOSEED="1", _AUTOSEED_TRACE=str(folder))
            check(installed.run(str(script), env=env, cwd=tmp_path))
        main = [next(folder.glob("*-main.trace")).read_text().splitlines() for folder in folders]
        if main[0] != main[1]:
            break
    assert main[0] != main[1] and sorted(main[0]) == sorted(main[1]), "taken in another order"
    found = compare_traces(str(folders[0]), str(folders[1]))
    assert found is not None and found["difference"] is None, found


def test_a_generator_seeded_from_the_clock_is_named_at_its_line(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "split.py", (
        "import time, torch\n"
        "g = torch.Generator().manual_seed(time.time_ns() % 2**32)\n"
        "print(torch.randperm(8, generator=g).tolist())\n"
    ))  # fmt: skip
    out = explain(installed, script).stdout
    assert "seeds: torch.Generator.manual_seed got " in out, out
    assert f"in run 2, at {script}:2\n" in out, out


def test_the_generator_hook_leaves_a_profiler_in_place(installed: Venv, tmp_path: Path) -> None:
    """Under `python -m cProfile`, a traced run keeps the user's profiler (and sees no
    Generator calls) rather than replace it."""
    script = write_script(tmp_path, "seeded.py", (
        "import torch\ng = torch.Generator().manual_seed(3)\nprint(torch.rand(1, generator=g))\n"
    ))  # fmt: skip
    env = clean_env(AUTOSEED="1", _AUTOSEED_TRACE=str(tmp_path))
    plain = check(installed.run(str(script), env=env, cwd=tmp_path))
    ledger = "".join(path.read_text() for path in tmp_path.glob("*.seeds"))
    assert f"torch.Generator.manual_seed\t3\t{script}:2" in ledger, describe(plain)
    for path in tmp_path.glob("*.seeds"):
        path.unlink()
    profiled = check(installed.run("-m", "cProfile", "-o", "run.prof", str(script), env=env,
                                   cwd=tmp_path))  # fmt: skip
    assert (tmp_path / "run.prof").stat().st_size > 0, describe(profiled)
    ledger = "".join(path.read_text() for path in tmp_path.glob("*.seeds"))
    assert "torch.Generator" not in ledger, ledger


def test_a_clock_value_entering_a_tensor_is_named(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "clock.py", (
        "import time, torch\n"
        "w = torch.randn(3)\n"
        "t = torch.tensor([time.time() % 1.0])\n"
        "print((w * t).sum().item())\n"
    ))  # fmt: skip
    out = explain(installed, script).stdout
    assert f"  {script}:3: t = torch.tensor([time.time() % 1.0])\n" in out, out
    assert "the value came from outside torch's generators (the clock" in out, out


def test_generators_switched_off_are_named(installed: Venv, tmp_path: Path) -> None:
    script = write_script(
        tmp_path, "rng.py", "import numpy as np\nprint(np.random.default_rng().random())\n"
    )
    result = explain(installed, script, "--json", AUTOSEED_GENERATORS="0")
    report = json.loads(result.stdout)
    assert report["verdict"] == "not reproducible", describe(result)
    fixes = [(attempt["fix"], attempt["repeats"]) for attempt in report["why"]]
    assert fixes == [("AUTOSEED_GENERATORS=1", True)], fixes
    assert report["where"]["used_torch"] is False, report["where"]


def test_a_hash_order_vocabulary_names_the_hash_seed(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "vocab.py", (
        "words = 'the quick brown fox jumps over the lazy dog'.split()\n"
        "print(list(set(words)))\n"
    ))  # fmt: skip
    result = explain(installed, script, "--runs", "4", AUTOSEED_HASHSEED="keep")
    assert result.returncode == 1, describe(result)
    (line,) = [line for line in result.stdout.splitlines() if "PYTHONHASHSEED=" in line]
    assert line.endswith("the runs repeat: this fixes it"), describe(result)


def test_a_dataloader_worker_whose_data_differs_is_named(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "workers.py", (
        "import os, torch\n"
        "from torch.utils.data import DataLoader, Dataset\n"
        "class Data(Dataset):\n"
        "    def __len__(self):\n"
        "        return 4\n"
        "    def __getitem__(self, index):\n"
        "        worker = torch.utils.data.get_worker_info().id\n"
        "        value = os.urandom(1)[0] / 256 if worker == 1 else 0.5\n"
        "        return torch.tensor([value])\n"
        "if __name__ == '__main__':\n"
        "    loader = DataLoader(Data(), batch_size=2, num_workers=2,\n"
        "                        multiprocessing_context='spawn')\n"
        "    print([batch.sum().item() for batch in loader])\n"
    ))  # fmt: skip
    report = json.loads(explain(installed, script, "--json").stdout)
    found = report["where"]["difference"]
    assert found["process"] == "rank0-worker1", report["where"]
    assert found["kind"] == "outside data"
    assert (
        found["call"]["source"] == "value = os.urandom(1)[0] / 256 if worker == 1 else 0.5"
        or found["call"]["source"] == "return torch.tensor([value])"
    ), found


def test_a_reproducible_script_is_not_explained(installed: Venv, tmp_path: Path) -> None:
    script = write_script(tmp_path, "fine.py", "import torch\nprint(torch.randn(3).sum().item())\n")
    result = explain(installed, script)
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith("reproducible (2 runs") and "why:" not in result.stdout
    assert "with " not in result.stderr, "no fix was tried"


def test_the_trace_does_not_change_the_run(installed: Venv, tmp_path: Path) -> None:
    plain = check(installed.run(str(LEGACY_SCRIPT), env=clean_env(AUTOSEED="1024")))
    traces = tmp_path / "traces"
    traces.mkdir()
    traced = check(
        installed.run(
            str(LEGACY_SCRIPT), env=clean_env(AUTOSEED="1024", _AUTOSEED_TRACE=str(traces))
        )
    )
    assert traced.stdout == plain.stdout, describe(traced)
    files = os.listdir(traces)
    (main,) = [name for name in files if name.endswith("-main.trace")]
    lines = (traces / main).read_text().splitlines()
    assert len(lines) > 100 and all(line.count("\t") == 3 for line in lines), lines[:3]
    assert any(str(LEGACY_SCRIPT) in line for line in lines)


ROBUST = """
import torch
from torch.utils.flop_counter import FlopCounterMode

x = torch.randn(4, 4)
print(x.t().contiguous().sum().item())            # a view, then a copy of a non-contiguous one
y = x.clone()
y.add_(1).mul_(2)                                 # in-place operators
print(y.sum().item(), torch.split(x, 2)[1].sum().item())  # an operator returning a list
print(x.shape[0], x.max().item(), x.argmax().item())      # non-tensor results
print((x > 0).sum().item(), torch.arange(5).sum().item())  # bool and integer tensors
z = torch.complex(x, x)
print(z.abs().sum().item())                       # complex
s = x.to_sparse()
print(s._nnz() >= 0)                              # sparse
m = torch.empty(3, device="meta")
print((m + 1).shape)                              # meta
with FlopCounterMode(display=False) as counter:   # the user's own dispatch mode on top of ours
    (x @ x).sum()
print(counter.get_total_flops())
compiled = torch.compile(lambda t: t * 2 + 1)
try:
    print(compiled(x).sum().item())
except Exception as error:                        # no compiler here: not the trace's business
    print("compile unavailable", type(error).__name__)
"""


def test_the_trace_copes_with_every_kind_of_operator_and_mode(
    installed: Venv, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "robust.py", ROBUST)
    plain = check(installed.run(str(script), env=clean_env(AUTOSEED="3"), timeout=300))
    traces = tmp_path / "traces"
    traces.mkdir()
    env = clean_env(AUTOSEED="3", _AUTOSEED_TRACE=str(traces))
    traced = check(installed.run(str(script), env=env, timeout=300))
    assert traced.stdout == plain.stdout and "autoseed" not in traced.stderr, describe(traced)
    text = "".join(path.read_text() for path in traces.iterdir())
    for operator in ("aten.add_.Tensor", "aten.split.Tensor", "aten.mm.default", "meta"):
        assert operator in text, operator
