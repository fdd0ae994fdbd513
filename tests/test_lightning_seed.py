"""`PL_GLOBAL_SEED`: a seeded process that imports Lightning tells it autoseed's seed, so that
Lightning's own `seed_everything()` without an argument, its samplers and its launchers see it.
Real Lightning, from this test run's own interpreter (a test dependency)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import check, clean_env, run

pytestmark = pytest.mark.slow

SEEDS = (
    "import os\n"
    "from lightning import seed_everything\n"
    "print(os.environ.get('PL_GLOBAL_SEED'), seed_everything(verbose=False))\n"
)


def lightning(code: str, cwd: Path | None = None, **env: str) -> str:
    pytest.importorskip("lightning")
    result = check(run([sys.executable, "-c", code], env=clean_env(**env), cwd=cwd))
    return result.stdout.strip()


def test_lightnings_seed_everything_without_a_seed_takes_autoseeds() -> None:
    assert lightning(SEEDS, AUTOSEED="1024") == "1024 1024"
    assert lightning(SEEDS) == "None 0", "unseeded, Lightning's own default"
    assert lightning(SEEDS, AUTOSEED="1024", PL_GLOBAL_SEED="5") == "5 5", "yours wins"
    # Not with a rank offset, which Lightning's one seed for every rank would undo.
    assert lightning(SEEDS, AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1", RANK="1") == "None 0"


def test_a_process_without_lightning_gives_its_children_no_seed_from_a_dotenv(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=3\n")
    code = (
        "import os, subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ.get(\"PL_GLOBAL_SEED\"))'], cwd='/')\n"
    )
    assert lightning(code, cwd=tmp_path) == "None"
    with_lightning = "import lightning\n" + code
    assert lightning(with_lightning, cwd=tmp_path) == "3", (
        "a process that uses Lightning exports it, as Lightning's own seed_everything does"
    )
