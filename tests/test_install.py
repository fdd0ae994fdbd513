"""The start-up files land and fire for every way of installing: pip, pip -e, uv, sitecustomize."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autoseed.names import env_file_might_ask, might_be_setting
from conftest import ROOT, Venv, check, clean_env, describe, make_venv, run

pytestmark = pytest.mark.slow

PTH_LINE = (ROOT / "autoseed" / "start" / "startup_files" / "autoseed.pth").read_text()
# A seeded `python -c` restarts once to fix its hash seed, which AUTOSEED_VERBOSE reports.
SEEDED_RANDOM = "autoseed: restarted once with PYTHONHASHSEED=1\nautoseed: seeded random with 1\n"


def seeded_random_once(venv: Venv, **env: str) -> None:
    """One verbose line, though site.py reads the .pth twice in a venv (CPython #75723)."""
    result = check(
        venv.run("-c", "import random", env=clean_env(AUTOSEED="1", AUTOSEED_VERBOSE="1", **env))
    )
    assert result.stderr == SEEDED_RANDOM, describe(result)


def autoseed_files(site_packages: Path) -> list[str]:
    return sorted(path.name for path in site_packages.iterdir() if "autoseed" in path.name)


def test_wheel_puts_pth_and_start_at_the_root_of_site_packages(installed: Venv) -> None:
    site_packages = installed.site_packages
    assert (site_packages / "autoseed.pth").read_text() == PTH_LINE
    assert (site_packages / "autoseed.start").read_text() == "_autoseed_startup:run\n"
    gate = (ROOT / "autoseed" / "start" / "startup_files" / "_autoseed_startup.py").read_text()
    assert (site_packages / "_autoseed_startup.py").read_text() == gate


NAMES = [
    "AUTOSEED", "AUTOSEED_CUDNN", "autoseed", "AUTO_SEED", "AUTOSED", "UTOSEED", "AAUTOSEED",
    "AUTH_TOKEN", "XAUTHORITY", "RUSTUP_AUTO_INSTALL", "SEED", "RANDOM_SEED", "NEED_SEED",
    "SPEED_LIMIT", "_AUTOSEED_TOLD", "HOME",
]  # fmt: skip


def test_the_pth_line_looks_further_exactly_where_names_say_a_name_might_be_a_setting(
    installed: Venv, tmp_path: Path
) -> None:
    """autoseed.pth spells out names.might_be_setting (it imports nothing): the same answers."""
    code = "import sys; print('_autoseed_startup' in sys.modules)"
    for name in NAMES:
        result = check(installed.run("-c", code, env=clean_env(**{name: "x"}), cwd=tmp_path))
        assert result.stdout == f"{might_be_setting(name)}\n", (name, describe(result))


ENV_FILES = [
    b"", b"DB_URL=postgres://u:p@db/app\nAPI_KEY=sk-1\nSECRET_KEY=x\n", b"AUTH_TOKEN=t\n",
    b"NEXTAUTH_URL=http://x\n", b"RANDOM_SEED=4\nSPEED=2\n", b"# AUTOSEED=1\n",
    b"NOTE=set AUTOSEED yourself\n", b"AUTOSEED=1\n", b"  export AUTOSEED_CUDNN=keep\n",
    b"'AUTOSEED'=1\n", b"autoseed=1\n", b"AUTO_SEED=1\n", b"AUTOSED=1\n", b"UTOSEED=1\n",
    b"A_U_T_O_S_E_E_D=1\n", b"X=1\rAUTOSEED=1", b"\xef\xbb\xbfAUTOSEED=1\n",
    b"\xef\xbb\xbfAUTOSEEF=1\n", b"CITY=K\xc3\xb6ln\n", b"ST=Stra\xc3\x9fe\nAUTOMATIC=1\n",
    "AUTOSEED=1\n".encode("utf-16"), "SECRET=x\n".encode("utf-16-le"), b"\xff\xfeX\n",
    b"AUTOMATIC=1\n" + b"# padding\n" * 7000, b"DB=1\n" + b"# padding\n" * 110_000,
]  # fmt: skip


def test_the_pth_line_looks_into_a_env_exactly_where_names_say_it_might_ask(
    installed: Venv, tmp_path: Path
) -> None:
    """autoseed.pth spells out names.env_file_might_ask too: an ordinary .env is stepped over
    without importing anything; the lookup goes on up for a farther .env, the nearer hides."""
    code = "import sys; print('_autoseed_startup' in sys.modules)"
    project = tmp_path / "project"
    (project / "deep").mkdir(parents=True)
    for content in ENV_FILES:
        (project / ".env").write_bytes(content)
        result = check(installed.run("-c", code, cwd=project / "deep"))
        expected = env_file_might_ask(str(project / ".env"))
        assert result.stdout == f"{expected}\n", (content[:40], describe(result))
    ordinary, setting = ENV_FILES[1], b"AUTOSEED=1\n"
    for nearer, farther, expected in [(ordinary, setting, True), (ordinary, ordinary, False)]:
        (project / ".env").write_bytes(nearer)
        (tmp_path / ".env").write_bytes(farther)
        result = check(installed.run("-c", code, cwd=project / "deep"))
        assert result.stdout == f"{expected}\n", (nearer, farther, describe(result))


def test_start_file_names_a_real_importable_callable(installed: Venv) -> None:
    code = (
        "import pkgutil, sys; entry = open(sys.argv[1]).read().strip(); "
        "target = pkgutil.resolve_name(entry); assert callable(target); "
        "print(target.__module__, target.__qualname__)"
    )
    start = installed.site_packages / "autoseed.start"
    result = check(installed.run("-c", code, str(start)))
    assert result.stdout.split() == ["_autoseed_startup", "run"]


def test_pip_install_fires_once(installed: Venv) -> None:
    seeded_random_once(installed)


def test_pip_uninstall_leaves_nothing_behind(fresh_venv: Venv, wheel: Path) -> None:
    fresh_venv.pip("install", "--no-index", "--no-deps", str(wheel))
    site_packages = fresh_venv.site_packages
    seeded_random_once(fresh_venv)
    fresh_venv.pip("uninstall", "--yes", "autoseed")
    assert autoseed_files(site_packages) == []
    result = check(fresh_venv.run("-c", "import random", env=clean_env(AUTOSEED="1")))
    assert result.stderr == "", describe(result)


# The wheel of autoseed 0.3 (its package on one floor, its gate importing autoseed.startup),
# built from that release's source; both carry the version number 0.1.0, hence the reinstall.
WHEEL_OF_0_3 = Path(__file__).parent / "data" / "0.3" / "autoseed-0.1.0-py3-none-any.whl"


def test_a_wheel_of_0_3_upgrades_cleanly(fresh_venv: Venv, wheel: Path) -> None:
    fresh_venv.pip("install", "--no-index", "--no-deps", str(WHEEL_OF_0_3))
    site_packages = fresh_venv.site_packages
    assert (site_packages / "autoseed" / "startup.py").is_file(), "not the 0.3 layout"
    seeded_random_once(fresh_venv)
    fresh_venv.pip("install", "--no-index", "--no-deps", "--force-reinstall", str(wheel))
    left = sorted(p.name for p in (site_packages / "autoseed").glob("*.py"))
    assert left == ["__init__.py", "__main__.py", "hook.py", "names.py"], left
    gate = (ROOT / "autoseed" / "start" / "startup_files" / "_autoseed_startup.py").read_text()
    assert (site_packages / "_autoseed_startup.py").read_text() == gate
    assert (site_packages / "autoseed.pth").read_text() == PTH_LINE
    seeded_random_once(fresh_venv)
    old = check(
        fresh_venv.run("-c", "import importlib.util as u; print(u.find_spec('autoseed.startup'))")
    )
    assert old.stdout == "None\n", describe(old)
    status = check(run([str(fresh_venv.bin / "autoseed"), "status"], env=clean_env(AUTOSEED="4")))
    assert "start-up hook: ran in this process and is active" in status.stdout, describe(status)
    assert "AUTOSEED='4' (from the environment)" in status.stdout, describe(status)


def test_editable_install_fires_and_uninstalls(fresh_venv: Venv) -> None:
    fresh_venv.pip("install", "--no-deps", "--editable", str(ROOT))
    site_packages = fresh_venv.site_packages
    # The editable path file must sort (and so run) before autoseed.pth.
    path_files = sorted(p.name for p in site_packages.glob("*.pth") if "autoseed" in p.name)
    assert path_files[-1] == "autoseed.pth" and len(path_files) == 2, path_files
    seeded_random_once(fresh_venv)
    where = check(fresh_venv.run("-c", "import autoseed; print(autoseed.__file__)"))
    assert Path(where.stdout.strip()).parent == ROOT / "autoseed"
    fresh_venv.pip("uninstall", "--yes", "autoseed")
    assert autoseed_files(site_packages) == []


def test_uv_pip_install_fires(fresh_venv: Venv, wheel: Path) -> None:
    check(
        run(
            [sys.executable, "-m", "uv", "pip", "install", "--offline", "--no-deps"]
            + ["--python", str(fresh_venv.python), str(wheel)]
        )
    )
    assert "autoseed.pth" in autoseed_files(fresh_venv.site_packages)
    seeded_random_once(fresh_venv)


def test_without_numpy_or_torch_nothing_is_said(tmp_path: Path, wheel: Path) -> None:
    bare = make_venv(tmp_path / "bare", system_site_packages=False)
    bare.pip("install", "--no-index", "--no-deps", str(wheel))
    env = clean_env(AUTOSEED="1")
    result = check(bare.run("-c", "import random; print(random.random())", env=env))
    assert result.stderr == "", describe(result)
    missing = bare.run("-c", "import numpy", env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'numpy'"
    ), describe(missing)
    assert "autoseed" not in missing.stderr


class TestSitecustomize:
    """``sitecustomize_example`` on PYTHONPATH, in a venv where autoseed is not installed."""

    @pytest.fixture
    def user_sitecustomize(self, tmp_path: Path) -> Path:
        folder = tmp_path / "user_site"
        folder.mkdir()
        (folder / "sitecustomize.py").write_text("print('user sitecustomize ran')\n")
        return folder

    def env(self, *path: Path, **extra: str) -> dict[str, str]:
        return clean_env(PYTHONPATH=":".join(map(str, path)), **extra)

    def test_activates_and_chains_to_the_users_sitecustomize(
        self, fresh_venv: Venv, user_sitecustomize: Path
    ) -> None:
        env = self.env(
            ROOT / "sitecustomize_example",
            ROOT,
            user_sitecustomize,
            AUTOSEED="1",
            AUTOSEED_VERBOSE="1",
        )
        code = "import random, sitecustomize; print(sitecustomize.__file__)"
        result = check(fresh_venv.run("-c", code, env=env))
        assert result.stderr == SEEDED_RANDOM, describe(result)
        assert result.stdout.splitlines() == [
            "user sitecustomize ran",
            str(user_sitecustomize / "sitecustomize.py"),
        ]

    def test_says_so_when_autoseed_is_not_importable(
        self, fresh_venv: Venv, user_sitecustomize: Path
    ) -> None:
        quiet = check(
            fresh_venv.run(
                "-c", "pass", env=self.env(ROOT / "sitecustomize_example", user_sitecustomize)
            )
        )
        assert quiet.stderr == "" and quiet.stdout == "user sitecustomize ran\n", describe(quiet)
        asked = check(
            fresh_venv.run(
                "-c",
                "pass",
                env=self.env(ROOT / "sitecustomize_example", user_sitecustomize, AUTOSEED="1"),
            )
        )
        assert asked.stderr.startswith("autoseed: AUTOSEED is set but autoseed is not importable")
        assert asked.stderr.count("\n") == 1 and asked.stdout == "user sitecustomize ran\n"
