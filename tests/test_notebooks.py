"""Jupyter kernels, started as users' frontends start them (jupyter_client, nbclient).

The kernels run this test run's own interpreter (the project's `.venv`: autoseed installed
editable, ipykernel, IPython 9, whose banner draws from `random` at every kernel_info request).
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from conftest import NEUTRAL_DIRECTORY, check, clean_env, run

pytestmark = pytest.mark.slow

FIRST_DRAW = "import random; print(random.random())"


def script_output(code: str, **env: str) -> str:
    import sys

    return check(run([sys.executable, "-c", code], env=clean_env(**env))).stdout


class Kernel:
    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env, cwd=cwd)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def kernel_info(self) -> None:
        self.client.kernel_info(reply=True, timeout=60)  # type: ignore[call-arg]

    def execute(self, code: str) -> str:
        """Run a cell as a frontend does; return its stdout (raising on an error)."""
        message_id = self.client.execute(code)
        output: list[str] = []
        while True:
            try:
                message: dict[str, Any] = self.client.get_iopub_msg(timeout=120)
            except queue.Empty:
                raise AssertionError(f"no reply to {code!r}; output so far: {output}") from None
            if message["parent_header"].get("msg_id") != message_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content["name"] == "stdout":
                output.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(output)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel_factory() -> Iterator[Any]:
    kernels: list[Kernel] = []

    def start(cwd: str = NEUTRAL_DIRECTORY, **env: str) -> Kernel:
        kernels.append(Kernel(clean_env(**env), cwd))
        return kernels[-1]

    yield start
    for kernel in kernels:
        kernel.stop()


@pytest.mark.parametrize("extra_kernel_info_requests", [0, 3])
def test_the_first_cell_sees_a_scripts_first_draws_whatever_the_frontend_sent(
    kernel_factory: Any, extra_kernel_info_requests: int
) -> None:
    kernel = kernel_factory(AUTOSEED="1024")
    for _ in range(extra_kernel_info_requests):
        kernel.kernel_info()
    first = kernel.execute("import random, numpy; print(random.random(), numpy.random.rand())")
    assert first == script_output(
        "import random, numpy; print(random.random(), numpy.random.rand())", AUTOSEED="1024"
    )
    second = kernel.execute(FIRST_DRAW)
    assert second != script_output(FIRST_DRAW, AUTOSEED="1024"), "only the first cell is reset"


def test_a_seed_set_by_a_profile_startup_file_wins(kernel_factory: Any, tmp_path: Path) -> None:
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-seed.py").write_text(
        "import random, numpy\nrandom.seed(0)\nnumpy.random.seed(0)\n"
    )
    cell = "import random, numpy; print(random.random(), numpy.random.rand())"
    expected = script_output("import random, numpy\nrandom.seed(0)\nnumpy.random.seed(0)\n" + cell)
    kernel = kernel_factory(AUTOSEED="1024", IPYTHONDIR=str(tmp_path / "ipython"))
    assert kernel.execute(cell) == expected
    untouched = kernel_factory(AUTOSEED="1024")
    assert untouched.execute(cell) == script_output(cell, AUTOSEED="1024")


def test_the_magic_describes_the_kernel_and_reseeds(kernel_factory: Any) -> None:
    kernel = kernel_factory(AUTOSEED="1024")
    pid = kernel.execute("import os; print(os.getpid())").strip()
    status = kernel.execute("%autoseed")
    assert f"describes: this process (pid {pid})" in status, status
    assert "start-up hook: ran in this process and is active" in status
    assert "AUTOSEED='1024' (from the environment)" in status
    kernel.execute(FIRST_DRAW)
    assert kernel.execute("%autoseed reseed") == "autoseed: reseeded with 1024\n"
    assert kernel.execute(FIRST_DRAW) == script_output(FIRST_DRAW, AUTOSEED="1024")
    assert kernel.execute("%autoseed reseed 5") == "autoseed: reseeded with 5\n"
    assert kernel.execute(FIRST_DRAW) == script_output(FIRST_DRAW, AUTOSEED="5")
    assert "not valid" in kernel.execute("%autoseed reseed -3")


def test_load_ext_brings_the_magic_where_autoseed_is_off(kernel_factory: Any) -> None:
    kernel = kernel_factory()
    assert "%autoseed reseed 1024" in kernel.execute("%load_ext autoseed\n%autoseed reseed")
    assert kernel.execute("%autoseed reseed 5") == "autoseed: reseeded with 5\n"
    assert kernel.execute(FIRST_DRAW) == script_output(FIRST_DRAW, AUTOSEED="5")


NOTEBOOK_CELLS = [
    "import torch\nmodel = torch.nn.Linear(4, 2)\nprint(model.weight.sum().item())",
    "from torch.utils.data import DataLoader, TensorDataset\n"
    "data = TensorDataset(torch.randn(16, 4), torch.randn(16, 2))\n"
    "loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=2)\n"
    "print([x.sum().item() for x, _ in loader])",
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "x, y = next(iter(loader))\n"
    "loss = torch.nn.functional.mse_loss(model(x), y)\n"
    "loss.backward()\noptimizer.step()\n"
    "print(loss.item(), model.weight.sum().item())",
]


def restart_and_run_all(directory: Path, **env: str) -> list[str]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    client = NotebookClient(notebook, timeout=300, kernel_name="python3")
    client.execute(env=clean_env(**env), cwd=str(directory))
    outputs = [
        "".join(output.get("text", "") for output in cell.outputs) for cell in notebook.cells
    ]
    assert all(outputs), outputs
    return outputs


def test_restart_and_run_all_repeats(tmp_path: Path) -> None:
    from_environment = restart_and_run_all(tmp_path, AUTOSEED="1024")
    assert restart_and_run_all(tmp_path, AUTOSEED="1024") == from_environment
    (tmp_path / ".env").write_text("AUTOSEED=1024\n")
    assert restart_and_run_all(tmp_path) == from_environment
    os.remove(tmp_path / ".env")
    unseeded = restart_and_run_all(tmp_path)
    assert unseeded != from_environment
