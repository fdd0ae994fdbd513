"""The seed and the settings in a real MLflow tracking store (sqlite under the test's folder),
put there through MLflow's own API when the script starts a run; read back by MLflow's client
in another process. MLflow is a test dependency: this test run's own interpreter has it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import check, clean_env, describe, run, write_script

pytestmark = pytest.mark.slow

TRACKED = (
    "import sys, mlflow, torch\n"
    "mlflow.set_tracking_uri(sys.argv[1])\n"
    "with mlflow.start_run(run_id=sys.argv[2] if len(sys.argv) > 2 else None) as run:\n"
    "    mlflow.log_metric('draw', torch.rand(1).item())\n"
    "    print(run.info.run_id)\n"
    "print('integration imported:', 'autoseed.integrations.mlflow' in sys.modules)\n"
)
READ = (
    "import sys, json, mlflow\n"
    "data = mlflow.MlflowClient(sys.argv[1]).get_run(sys.argv[2]).data\n"
    "print(json.dumps({'params': data.params, 'tags': data.tags}))\n"
)


def tracked(tmp_path: Path, *run_id: str, **env: str) -> tuple[str, str, str]:
    """Run the tracked script; its run id, its last line and its stderr."""
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    script = write_script(tmp_path, "track.py", TRACKED)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run([sys.executable, str(script), store, *run_id], env=clean_env(**env),
                 cwd=tmp_path, timeout=300)  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, describe(result)
    run_line, imported = result.stdout.splitlines()[-2:]
    return run_line, imported, result.stderr


def stored(tmp_path: Path, run_id: str) -> dict[str, Any]:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = check(run([sys.executable, "-c", READ, store, run_id], timeout=300))
    data: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return data


def test_a_real_store_holds_the_seed_and_the_settings(tmp_path: Path) -> None:
    run_id, imported, _ = tracked(tmp_path, AUTOSEED="1024", AUTOSEED_CUDNN="keep")
    data = stored(tmp_path, run_id)
    assert data["params"]["AUTOSEED"] == "1024", data
    assert data["params"]["AUTOSEED_CUDNN"] == "keep", data
    assert data["params"]["AUTOSEED_DETERMINISTIC"] == "0", data
    assert data["tags"]["autoseed.seed"] == "1024", data
    assert data["tags"]["autoseed.seed_source"] == "the environment", data
    assert data["tags"]["autoseed.source.AUTOSEED_CUDNN"] == "the environment", data
    assert imported == "integration imported: True"
    unseeded_id, imported, _ = tracked(tmp_path)
    unseeded = stored(tmp_path, unseeded_id)
    assert not [key for key in [*unseeded["params"], *unseeded["tags"]] if "autoseed" in key]
    assert imported == "integration imported: False"


def test_a_resumed_run_with_another_seed_is_said_not_raised(tmp_path: Path) -> None:
    run_id, _, _ = tracked(tmp_path, AUTOSEED="1")
    resumed, _, stderr = tracked(tmp_path, run_id, AUTOSEED="2")
    assert resumed == run_id
    said = [line for line in stderr.splitlines() if "autoseed:" in line]
    assert len(said) == 1 and said[0].startswith(
        f"autoseed: could not record the seed in MLflow run {run_id}: MlflowException: "
    ), stderr
    assert stored(tmp_path, run_id)["params"]["AUTOSEED"] == "1"


def test_a_seed_set_in_code_goes_into_the_run(tmp_path: Path) -> None:
    """autoseed.seed_everything(11) in a process where autoseed started (here for its manifest):
    the run gets 11, as the manifest does."""
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    script = write_script(tmp_path, "in_code.py", (
        "import sys, autoseed, mlflow\n"
        "autoseed.seed_everything(11)\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "with mlflow.start_run() as run:\n"
        "    print(run.info.run_id)\n"
    ))  # fmt: skip
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = clean_env(AUTOSEED_MANIFEST=str(tmp_path / "run.jsonl"))
    result = run([sys.executable, str(script), store], env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stderr, describe(result)
    data = stored(tmp_path, result.stdout.splitlines()[-1])
    assert data["params"]["AUTOSEED"] == "11", data
    assert data["tags"]["autoseed.seed_source"] == "seed_everything()", data
