"""An unmodified legacy script becomes reproducible from AUTOSEED alone (real installs, runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import (
    LEGACY_SCRIPT,
    NEUTRAL_DIRECTORY,
    Venv,
    check,
    clean_env,
    describe,
    make_venv,
)

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
        "print(sorted(m for m in sys.modules if 'autoseed' in m))\n"
        "print(sorted(k for k in os.environ if k.startswith(('AUTOSEED', 'PYTHONHASHSEED'))))\n"
        "print([type(f).__name__ for f in sys.meta_path if 'autoseed' in type(f).__module__])"
    )
    result = check(installed.run("-c", code))
    # Nothing is imported: `_autoseed` is the None that marks the .pth line done.
    assert result.stdout.splitlines() == ["['_autoseed']", "[]", "[]"]
    assert result.stderr == "", describe(result)


def test_children_resolve_their_own_env_file_and_share_the_hash_seed(
    installed: Venv, tmp_path: Path
) -> None:
    """A .env configures the processes started where it applies, not every descendant."""
    (tmp_path / ".env").write_text("AUTOSEED=77\nAUTOSEED_CUDNN=keep\nSECRET_TOKEN=hunter2\n")
    (tmp_path / "sub").mkdir()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("AUTOSEED=1\n")
    child = (
        "import os, random; print(random.random(), hash('abc'), os.environ.get('SECRET_TOKEN'), "
        "sorted(k for k in os.environ if k.startswith('AUTOSEED')))"
    )
    code = (
        "import subprocess, sys\n"
        f"for where in ({str(tmp_path / 'sub')!r}, {str(elsewhere)!r}, {NEUTRAL_DIRECTORY!r}):\n"
        f"    subprocess.run([sys.executable, '-c', {child!r}], cwd=where, check=True)\n"
    )
    first, second = (check(installed.run("-c", code, cwd=tmp_path)).stdout for _ in range(2))
    below, other_project, no_project = (line.split(" ", 3) for line in first.splitlines())
    assert first.splitlines()[:2] == second.splitlines()[:2], "seeded children repeat"
    assert no_project[1:] == second.splitlines()[2].split(" ", 3)[1:], "hash seed repeats"
    seeded = {
        seed: check(installed.run("-c", "import random; print(random.random())",
                                  env=clean_env(AUTOSEED=seed))).stdout.strip()
        for seed in ("77", "1")
    }  # fmt: skip
    assert below[0] == seeded["77"], "a child below the project resolves the project's .env"
    assert other_project[0] == seeded["1"], "a child in another project follows that project"
    assert no_project[0] not in seeded.values(), "a child outside any project is not seeded"
    # Every child shares the parent's hash seed; no setting and no secret reached them.
    assert below[1] == other_project[1] == no_project[1]
    assert {line[2] for line in (below, other_project, no_project)} == {"None"}
    assert {line[3] for line in (below, other_project, no_project)} == {"[]"}


def test_seed_everything_in_code_still_exports_to_children(installed: Venv) -> None:
    code = (
        "import os, subprocess, sys, autoseed\n"
        "autoseed.seed_everything(5)\n"
        "subprocess.run([sys.executable, '-c', 'import os, random; "
        'print(os.environ["AUTOSEED"], random.random())\'], check=True)\n'
    )
    seeded = check(installed.run("-c", "import random; print(random.random())",
                                 env=clean_env(AUTOSEED="5"))).stdout  # fmt: skip
    result = check(installed.run("-c", code))
    assert result.stdout == f"5 {seeded}", describe(result)


def test_random_seed_is_printed_once_and_children_agree(installed: Venv, tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, random\n"
        "print(random.random())\n"
        "sys.stdout.flush()\n"
        "subprocess.run([sys.executable, '-c', 'import random; print(random.random())'], "
        "check=True)\n"
    )
    from_environment = check(installed.run("-c", code, env=clean_env(AUTOSEED="random")))
    (tmp_path / ".env").write_text("AUTOSEED=random\n")
    from_file = check(installed.run("-c", code, cwd=tmp_path))
    for result in (from_environment, from_file):
        parent, child = result.stdout.splitlines()
        assert parent == child, describe(result)
        (announced,) = result.stderr.splitlines()
        seed = announced.removeprefix("autoseed: AUTOSEED=")
        again = check(installed.run("-c", "import random; print(random.random())",
                                    env=clean_env(AUTOSEED=seed)))  # fmt: skip
        assert again.stdout.strip() == parent, "the announced number is the seed in use"


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


def test_a_child_activates_at_its_first_import_and_before_any_seeded_library(
    tmp_path: Path, wheel: Path
) -> None:
    """A child (hash seed fixed) pays for autoseed only when it imports something; what another
    .pth file or the program imports first (random itself included) is seeded all the same."""
    fresh_venv = make_venv(tmp_path / "venv", system_site_packages=False)
    fresh_venv.pip("install", "--no-index", "--no-deps", str(wheel))
    child = clean_env(AUTOSEED="7", PYTHONHASHSEED="7")
    draw = "import random; print(random.random())"
    expected = check(fresh_venv.run("-c", draw, env=clean_env(AUTOSEED="7"))).stdout
    idle = "import sys; print(sorted(m for m in sys.modules if m.startswith('autoseed')))"
    assert check(fresh_venv.run("-c", idle, env=child)).stdout == "[]\n"
    assert check(fresh_venv.run("-c", draw, env=child)).stdout == expected
    for early in ("import random", "import json"):  # another .pth file, processed after ours
        (fresh_venv.site_packages / "zz_other.pth").write_text(early + "\n")
        result = check(fresh_venv.run("-c", draw, env=child))
        assert result.stdout == expected, (early, describe(result))
