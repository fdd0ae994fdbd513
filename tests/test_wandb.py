"""The seed and the settings in a real W&B run, offline: the script's ``wandb.init`` writes the
run to a local ``.wandb`` file, read back here record by record with W&B's own protobuf types.
wandb is a test dependency: this test run's own interpreter has it."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import clean_env, describe, run, write_script

pytestmark = pytest.mark.slow

TRACKED = (
    "import sys, wandb, torch\n"
    "config = dict(arg.split('=', 1) for arg in sys.argv[1:])\n"
    "run = wandb.init(project='autoseed-test', config=config)\n"
    "run.log({'draw': torch.rand(1).item()})\n"
    "print(run.id)\n"
    "print('integration imported:', 'autoseed.integrations.wandb' in sys.modules)\n"
    "run.finish()\n"
)
# The offline file is a LevelDB-style log (wandb 0.31 ships no Python reader for it): a 7-byte
# file header, then 32 KiB blocks of chunks, each `<crc32, length, kind>` and its bytes; kind 1
# is a whole record, 2-4 the first, middle and last pieces of one that spans blocks.
BLOCK, HEADER = 32768, 7


def offline_config(folder: Path, run_id: str) -> dict[str, Any]:
    """The config a run's offline file holds, as W&B would sync it."""
    from wandb.proto import wandb_internal_pb2

    (path,) = folder.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B", data[:7]
    config: dict[str, Any] = {}
    position, pieces = HEADER, b""
    while position + HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < HEADER:
            position += left_in_block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + HEADER])
        pieces += data[position + HEADER : position + HEADER + length]
        position += HEADER + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pieces)
            pieces = b""
            update = {"config": record.config, "run": record.run.config}.get(
                str(record.WhichOneof("record_type"))
            )
            for item in update.update if update is not None else ():
                config[item.key] = json.loads(item.value_json)
    return config


def offline_environment(folder: Path) -> dict[str, str]:
    """W&B offline, its files (runs, settings, caches) under the test's folder."""
    return {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(folder),
            "WANDB_CONFIG_DIR": str(folder / "config"), "WANDB_CACHE_DIR": str(folder / "cache"),
            "WANDB_DATA_DIR": str(folder / "data")}  # fmt: skip


def tracked(tmp_path: Path, *config: str, **env: str) -> tuple[str, str, str]:
    """Run the tracked script offline; its run id, its last line and its stderr."""
    pytest.importorskip("wandb")
    script = write_script(tmp_path, "track.py", TRACKED)
    result = run([sys.executable, str(script), *config],
                 env=clean_env(**offline_environment(tmp_path), **env),
                 cwd=tmp_path, timeout=300)  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, describe(result)
    run_id, imported = result.stdout.splitlines()[-2:]
    return run_id, imported, result.stderr


def test_an_offline_run_holds_the_seed_and_the_settings(tmp_path: Path) -> None:
    run_id, imported, _ = tracked(tmp_path, "lr=0.1", AUTOSEED="1024", AUTOSEED_CUDNN="keep")
    config = offline_config(tmp_path, run_id)
    assert config["lr"] == "0.1", config
    record = config["autoseed"]
    assert record["seed"] == 1024 and record["seed_source"] == "the environment", record
    assert record["settings"]["AUTOSEED"] == "1024", record
    assert record["settings"]["AUTOSEED_CUDNN"] == "keep", record
    assert record["sources"] == {"AUTOSEED_CUDNN": "the environment"}, record
    assert imported == "integration imported: True"


def test_a_rank_is_a_number_runs_filter_by(tmp_path: Path) -> None:
    run_id, _, _ = tracked(tmp_path, AUTOSEED="5", AUTOSEED_RANK_OFFSET="1", RANK="3")
    record = offline_config(tmp_path, run_id)["autoseed"]
    assert (record["rank"], record["rank_from"], record["effective_seed"]) == (3, "RANK", 8), record


def test_an_unseeded_run_holds_nothing_of_autoseed(tmp_path: Path) -> None:
    run_id, imported, stderr = tracked(tmp_path, "lr=0.1")
    config = offline_config(tmp_path, run_id)
    assert config["lr"] == "0.1" and "autoseed" not in config, config
    assert imported == "integration imported: False"
    assert "autoseed" not in stderr, stderr


def test_a_run_holding_another_seed_keeps_it_and_says_so(tmp_path: Path) -> None:
    """What a run resumed by a process with another seed looks like: its config already holds
    an autoseed record. It is kept (as W&B keeps any config value), said once, never raised."""
    run_id, _, stderr = tracked(tmp_path, "autoseed=5", AUTOSEED="1024")
    assert offline_config(tmp_path, run_id)["autoseed"] == "5"
    said = [line for line in stderr.splitlines() if "autoseed:" in line]
    assert said == [
        f"autoseed: W&B run {run_id} already holds another autoseed record (seed '5'): "
        "left as it is; this process ran with seed 1024"
    ], stderr


def test_lightnings_wandb_logger_starts_a_run_that_holds_the_seed(tmp_path: Path) -> None:
    """Lightning's WandbLogger starts its run with wandb.init: the same record goes in."""
    pytest.importorskip("lightning")
    script = write_script(tmp_path, "logged.py", (
        "from lightning.pytorch.loggers import WandbLogger\n"
        "run = WandbLogger(project='autoseed-test', offline=True, save_dir='.').experiment\n"
        "print(run.id)\n"
        "run.finish()\n"
    ))  # fmt: skip
    result = run([sys.executable, str(script)], cwd=tmp_path, timeout=300,
                 env=clean_env(**offline_environment(tmp_path), AUTOSEED="77"))  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, describe(result)
    record = offline_config(tmp_path, result.stdout.splitlines()[-1])["autoseed"]
    assert record["seed"] == 77 and record["settings"]["AUTOSEED"] == "77", record
