"""Who may configure a process: a `.env` applies where it lies, and only if its owner is trusted."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "scripts"
OTHER_USER = "autoseed-test-other"
DRAWS = "import random; print(random.random())"


@pytest.fixture(scope="module")
def other_uid() -> int:
    """A second, real user (CI runs as root, as these machines do)."""
    if os.geteuid() != 0:
        pytest.fail("these tests chown files to a second user: run them as root, as CI does")
    subprocess.run(["useradd", "--no-create-home", OTHER_USER], capture_output=True, check=False)
    found = subprocess.run(["id", "-u", OTHER_USER], capture_output=True, text=True, check=True)
    return int(found.stdout)


def first_draw(venv: Venv, seed: str) -> str:
    return check(venv.run("-c", DRAWS, env=clean_env(AUTOSEED=seed))).stdout


class TestOwnership:
    def test_another_users_env_file_is_ignored_and_hides_farther_ones(
        self, installed: Venv, tmp_path: Path, other_uid: int
    ) -> None:
        (tmp_path / ".env").write_text("AUTOSEED=5\n")  # mine, but farther than theirs
        shared = tmp_path / "scratch"
        shared.mkdir(mode=0o1777)
        theirs = shared / ".env"
        theirs.write_text("AUTOSEED=not-a-seed\nAUTOSEED_DETERMINISTIC=1\n")
        os.chown(theirs, other_uid, other_uid)
        code = "import numpy, random; numpy.random.rand(); print(random.random())"
        ignored = (
            f"autoseed: {theirs} sets AUTOSEED but is ignored: it belongs to another user (uid "
            f"{other_uid}), and only your own or root's .env files configure your processes; "
            "name it in AUTOSEED_ENV_FILE to trust it\n"
        )
        runs = [check(installed.run("-c", code, cwd=shared)) for _ in range(2)]
        assert runs[0].stdout != runs[1].stdout, "not seeded: neither file configures it"
        assert runs[0].stderr == ignored, describe(runs[0])
        bare = check(installed.run("-c", "pass", cwd=shared))
        assert bare.stderr == "", describe(bare)
        for asked in ({"AUTOSEED": "1"}, {"AUTOSEED_VERBOSE": "1"}):
            told = check(installed.run("-c", "import numpy", cwd=shared, env=clean_env(**asked)))
            assert told.stderr == ignored, describe(told)
        failed = run([str(installed.bin / "autoseed"), "status"], cwd=shared)
        assert failed.returncode == 1, describe(failed)
        status = failed
        assert f"{theirs} (ignored: owned by another user, uid {other_uid})" in status.stdout
        assert "AUTOSEED: off (default)" in status.stdout, describe(status)

    def test_a_file_named_in_the_environment_is_trusted(
        self, installed: Venv, tmp_path: Path, other_uid: int
    ) -> None:
        theirs = tmp_path / "team.env"
        theirs.write_text("AUTOSEED=5\n")
        os.chown(theirs, other_uid, other_uid)
        named = check(installed.run("-c", DRAWS, env=clean_env(AUTOSEED_ENV_FILE=str(theirs))))
        assert named.stdout == first_draw(installed, "5"), describe(named)

    def test_my_own_and_roots_files_are_used(self, installed: Venv, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("AUTOSEED=5\n")
        assert os.stat(tmp_path / ".env").st_uid == os.geteuid()
        mine = check(installed.run("-c", DRAWS, cwd=tmp_path))
        assert mine.stdout == first_draw(installed, "5"), describe(mine)


class TestEnvFileScope:
    """Settings from a .env are not exported: children resolve from their own directory."""

    @pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
    def test_dataloader_workers_resolve_the_same_file(
        self, installed: Venv, tmp_path: Path, start_method: str
    ) -> None:
        script = str(SCRIPTS / "worker_streams.py")
        (tmp_path / ".env").write_text("AUTOSEED=1024\n")
        from_file = check(installed.run(script, start_method, cwd=tmp_path, timeout=240))
        from_environment = check(
            installed.run(script, start_method, env=clean_env(AUTOSEED="1024"), timeout=240)
        )
        assert from_file.stdout == from_environment.stdout, describe(from_file)
        assert len(from_file.stdout.splitlines()) == 6, describe(from_file)

    def test_workers_started_after_a_chdir_below_the_project_still_find_it(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("AUTOSEED=1024\n")
        (tmp_path / "data" / "cache").mkdir(parents=True)
        script = tmp_path / "chdir_then_load.py"
        script.write_text(
            "import os, random, torch\n"
            "from torch.utils.data import DataLoader\n"
            "def draw(_):\n"
            "    return random.random(), float(torch.rand(1))\n"
            "if __name__ == '__main__':\n"
            f"    os.chdir({str(tmp_path / 'data' / 'cache')!r})\n"
            "    loader = DataLoader(range(4), batch_size=None, num_workers=2,\n"
            "                        collate_fn=draw, multiprocessing_context='spawn')\n"
            "    print(list(loader))\n"
        )
        runs = [check(installed.run(str(script), cwd=tmp_path, timeout=240)) for _ in range(2)]
        assert runs[0].stdout == runs[1].stdout, describe(runs[1])
        (tmp_path / ".env").unlink()
        unseeded = check(installed.run(str(script), cwd=tmp_path, timeout=240))
        assert unseeded.stdout != runs[0].stdout

    def test_torchrun_ranks_resolve_the_same_file(self, installed: Venv, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("AUTOSEED=1024\n")
        result = check(
            installed.run(
                "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                str(SCRIPTS / "dist_digest.py"), cwd=tmp_path, timeout=240,
            )
        )  # fmt: skip
        assert result.stdout.count(" seed 1024 ") == 2, describe(result)
