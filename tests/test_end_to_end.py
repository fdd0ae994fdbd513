"""An unmodified legacy script becomes reproducible from AUTOSEED alone (real installs, runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LEGACY_SCRIPT, Venv, check, clean_env, describe

pytestmark = pytest.mark.slow


def legacy_output(venv: Venv, cwd: Path | None = None, **env: str) -> str:
    result = check(venv.run(str(LEGACY_SCRIPT), env=clean_env(**env), cwd=cwd))
    assert "Traceback" not in result.stderr, describe(result)
    return result.stdout


@pytest.fixture(scope="module")
def seeded_1024(installed: Venv) -> str:
    return legacy_output(installed, AUTOSEED="1024")


def test_same_seed_gives_identical_output(installed: Venv, seeded_1024: str) -> None:
    assert seeded_1024.count("\n") == 5, seeded_1024
    assert legacy_output(installed, AUTOSEED="1024") == seeded_1024


def test_different_seeds_give_different_output(installed: Venv, seeded_1024: str) -> None:
    other = legacy_output(installed, AUTOSEED="1025").splitlines()
    assert all(a != b for a, b in zip(other, seeded_1024.splitlines(), strict=True))


def test_without_autoseed_runs_differ(installed: Venv) -> None:
    assert legacy_output(installed) != legacy_output(installed)


def test_env_file_in_a_parent_directory(installed: Venv, seeded_1024: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://secret\nAUTOSEED=1024\n")
    (tmp_path / "src" / "deep").mkdir(parents=True)
    assert legacy_output(installed, cwd=tmp_path / "src" / "deep") == seeded_1024


def test_environment_beats_env_file(installed: Venv, seeded_1024: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=5\n")
    assert legacy_output(installed, cwd=tmp_path, AUTOSEED="1024") == seeded_1024


def test_same_as_calling_seed_everything_by_hand(
    installed: Venv, seeded_1024: str, tmp_path: Path
) -> None:
    wrapper = tmp_path / "by_hand.py"
    wrapper.write_text(
        "import runpy, sys\nimport autoseed\nautoseed.seed_everything(1024)\n"
        f"runpy.run_path({str(LEGACY_SCRIPT)!r}, run_name='__main__')\n"
    )
    result = check(installed.run(str(wrapper)))
    assert result.stdout == seeded_1024, describe(result)


def test_a_script_that_seeds_itself_still_wins(installed: Venv) -> None:
    code = (
        "import torch, numpy\ntorch.manual_seed(3)\nnumpy.random.seed(3)\n"
        "print(torch.rand(3).tolist(), numpy.random.rand(3).tolist())"
    )
    mine = check(installed.run("-c", code)).stdout
    assert check(installed.run("-c", code, env=clean_env(AUTOSEED="1024"))).stdout == mine


def test_off_costs_nothing_and_changes_nothing(installed: Venv) -> None:
    code = (
        "import os, sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('autoseed')))\n"
        "print(sorted(k for k in os.environ if k.startswith(('AUTOSEED', 'PYTHONHASHSEED'))))\n"
        "print([type(f).__name__ for f in sys.meta_path if 'autoseed' in type(f).__module__])"
    )
    result = check(installed.run("-c", code))
    assert result.stdout.splitlines() == ["['autoseed', 'autoseed._startup']", "[]", "[]"]
    assert result.stderr == "", describe(result)


def test_children_get_the_resolved_settings_and_a_hash_seed(
    installed: Venv, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("AUTOSEED=77\nAUTOSEED_CUDNN=keep\nSECRET_TOKEN=hunter2\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("AUTOSEED=1\n")
    code = (
        "import os, subprocess, sys\n"
        'child = \'import os; print(hash("abc"), os.environ["AUTOSEED"], '
        'os.environ["AUTOSEED_CUDNN"], os.environ.get("SECRET_TOKEN"))\'\n'
        f"subprocess.run([sys.executable, '-c', child], cwd={str(elsewhere)!r}, check=True)\n"
    )
    runs = {check(installed.run("-c", code, cwd=tmp_path)).stdout for _ in range(2)}
    (line,) = runs
    assert line.split()[1:] == ["77", "keep", "None"], line


def test_random_seed_is_printed_once_and_children_agree(installed: Venv) -> None:
    code = (
        "import os, subprocess, sys, random\n"
        "print(os.environ['AUTOSEED'], random.random())\n"
        "subprocess.run([sys.executable, '-c', 'import os, random; "
        'print(os.environ["AUTOSEED"], random.random())\'], check=True)\n'
    )
    result = check(installed.run("-c", code, env=clean_env(AUTOSEED="random")))
    parent, child = result.stdout.splitlines()
    seed = parent.split()[0]
    assert result.stderr == f"autoseed: AUTOSEED={seed}\n", describe(result)
    assert parent == child


def test_cudnn_alone_sets_flags_without_seeding(installed: Venv) -> None:
    code = (
        "import torch; b = torch.backends.cudnn\n"
        "print(b.benchmark, b.deterministic, torch.initial_seed() < 2**32)"
    )
    result = check(installed.run("-c", code, env=clean_env(AUTOSEED_CUDNN="benchmark")))
    assert result.stdout.split()[:2] == ["True", "False"], describe(result)
    draws = {
        check(
            installed.run(
                "-c",
                "import torch; print(torch.initial_seed())",
                env=clean_env(AUTOSEED_CUDNN="benchmark"),
            )
        ).stdout
        for _ in range(2)
    }
    assert len(draws) == 2, "AUTOSEED_CUDNN alone must not seed torch"
