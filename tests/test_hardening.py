"""Every interpreter, every flag, every fault, many processes, hostile files: nothing breaks.

Each fault runs in a real process; the assertions are on its exit status, its output, and the
absence of any traceback.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import (
    LEGACY_SCRIPT,
    NEUTRAL_DIRECTORY,
    ROOT,
    Venv,
    check,
    clean_env,
    describe,
    run,
)

pytestmark = pytest.mark.slow

PYENV_PYTHONS = {
    version: sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")))
    for version in ("3.10", "3.11", "3.12", "3.13")
}
SEED_LINE = "autoseed: seeded random with 3\n"
# A seeded `python -c` restarts once to fix its hash seed, which AUTOSEED_VERBOSE reports.
RESTARTED_AND_SEEDED = "autoseed: restarted once with PYTHONHASHSEED=3\n" + SEED_LINE


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, describe(result)


@pytest.mark.parametrize("version", sorted(PYENV_PYTHONS))
def test_interpreter_versions(version: str, wheel: Path) -> None:
    pythons = PYENV_PYTHONS[version]
    if not pythons:
        pytest.skip(f"no Python {version} under ~/.pyenv on this machine")
    result = check(
        run([sys.executable, str(ROOT / "tests" / "check_interpreters.py"), "--wheel", str(wheel),
             pythons[-1]], timeout=600)
    )  # fmt: skip
    assert result.stdout.startswith(f"Python {version}."), describe(result)
    assert result.stdout.rstrip().endswith(": ok"), describe(result)
    if version == "3.11":
        assert "random, numpy, torch" in result.stdout


class TestFlags:
    def test_dash_S_turns_site_and_autoseed_off(self, installed: Venv) -> None:
        result = check(
            installed.run("-S", "-c", "import sys; print('autoseed' in sys.modules)",
                          env=clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1"))
        )  # fmt: skip
        assert result.stdout == "False\n" and result.stderr == ""

    @pytest.mark.parametrize("flag", ["-I", "-E"])
    def test_dash_I_and_E_keep_it_on(self, installed: Venv, flag: str) -> None:
        env = clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1")
        result = check(installed.run(flag, "-c", "import random", env=env))
        assert result.stderr == (
            "autoseed: AUTOSEED_HASHSEED: no restart, python -E (or -I) would ignore "
            "PYTHONHASHSEED in the restarted interpreter; hash() stays randomized here\n"
            + SEED_LINE
        ), describe(result)

    def test_importtime_output_stays_clean(self, installed: Venv) -> None:
        for env in (clean_env(), clean_env(AUTOSEED="3")):
            result = check(installed.run("-X", "importtime", "-c", "import random", env=env))
            lines = result.stderr.splitlines()
            assert lines and all(line.startswith("import time:") for line in lines), describe(
                result
            )

    @pytest.mark.parametrize(
        "extra", [{}, {"AUTOSEED": "3"}, {"AUTOSEED": "3", "AUTOSEED_DETERMINISTIC": "1"}]
    )
    def test_dev_mode_and_warnings_as_errors_see_nothing(
        self, installed: Venv, extra: dict[str, str], tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("AUTOSEED_VERBOSE=0\n")
        env = clean_env(PYTHONDEVMODE="1", **extra)
        code = "import random, numpy, torch; numpy.random.rand(); print('ok')"
        result = check(installed.run("-W", "error", "-c", code, env=env, cwd=tmp_path))
        assert result.stdout == "ok\n" and result.stderr == "", describe(result)


class TestFaults:
    def test_huge_env_file_is_not_read_whole(self, installed: Venv, tmp_path: Path) -> None:
        env_file = tmp_path / ".env"
        with open(env_file, "wb") as file:
            file.write(b"AUTOSEED=3\nAUTOSEED_VERBOSE=1\n# padding\n")
            file.truncate(100 * 1024 * 1024)  # 100 MB, most of it NUL bytes
        code = "import random, numpy"
        result = check(installed.run("-c", code, cwd=tmp_path, timeout=60))
        assert result.stderr.splitlines() == [
            "autoseed: restarted once with PYTHONHASHSEED=3",
            "autoseed: seeded random with 3",
            f"autoseed: {env_file} is larger than 1 MiB; only its first MiB was read, so a "
            "setting after that is ignored",
        ], describe(result)

    def test_huge_env_file_without_autoseed_is_ignored(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        with open(tmp_path / ".env", "wb") as file:
            file.write(b"SECRET=1\n")
            file.truncate(100 * 1024 * 1024)
        code = "import numpy; print('ran')"  # reads on past the first MiB, in chunks
        result = check(installed.run("-c", code, cwd=tmp_path, timeout=60))
        assert result.stdout == "ran\n" and result.stderr == "", describe(result)

    def test_unreadable_env_file(self, installed: Venv, tmp_path: Path) -> None:
        # Root reads every file it owns; a write-only procfs file is unreadable even for root.
        unreadable = "/proc/sys/vm/compact_memory"
        if not os.path.exists(unreadable):
            pytest.skip("no write-only procfs file on this system")
        (tmp_path / ".env").symlink_to(unreadable)
        quiet = check(installed.run("-c", "print('ran')", cwd=tmp_path))
        assert quiet.stdout == "ran\n" and quiet.stderr == "", describe(quiet)
        asked = check(
            installed.run("-c", "import numpy", cwd=tmp_path, env=clean_env(AUTOSEED="3"))
        )
        assert asked.stderr == (
            f"autoseed: could not read {tmp_path / '.env'} (Permission denied), so an AUTOSEED "
            "setting in it would be ignored; make it readable, or set AUTOSEED_ENV_FILE=none "
            "to skip it\n"
        ), describe(asked)
        named = installed.run("-c", "import numpy", env=clean_env(AUTOSEED_ENV_FILE=unreadable))
        assert (
            f"AUTOSEED_ENV_FILE={unreadable!r} (from the environment) cannot be read"
            in (named.stderr.splitlines()[0])
        ), describe(named)

    def test_home_unset(self, installed: Venv) -> None:
        env = clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1")
        env.pop("HOME", None)
        result = check(installed.run("-c", "import random", env=env))
        assert result.stderr == RESTARTED_AND_SEEDED, describe(result)
        status = check(run([str(installed.bin / "autoseed"), "status"], env=env))
        no_traceback(status)

    def test_torch_raising_partway(self, installed: Venv, tmp_path: Path) -> None:
        fake = tmp_path / "fake" / "torch"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(
            "import os\nHALF = 1\nraise RuntimeError('torch is broken halfway')\n"
        )
        code = (
            "import sys\n"
            "for attempt in (1, 2):\n"
            "    try:\n        import torch\n"
            "    except RuntimeError as exc:\n        print(attempt, exc, 'torch' in sys.modules)\n"
            "import random\n"
        )
        env = clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1", PYTHONPATH=str(fake.parent))
        result = check(installed.run("-c", code, env=env))
        assert result.stdout.splitlines() == [
            "1 torch is broken halfway False",
            "2 torch is broken halfway False",
        ], describe(result)
        assert result.stderr == RESTARTED_AND_SEEDED, "only the library's own error, no more"

    def test_import_torch_from_two_threads(self, installed: Venv) -> None:
        code = (
            "import threading\n"
            "seen = []\n"
            "def load():\n    import torch\n    seen.append(torch.initial_seed())\n"
            "threads = [threading.Thread(target=load) for _ in range(2)]\n"
            "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(seen)\n"
        )
        env = clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1")
        result = check(installed.run("-c", code, env=env))
        assert result.stdout == "[3, 3]\n", describe(result)
        assert result.stderr.count("seeded torch with 3") == 1

    def test_reload_is_harmless_and_does_not_reseed(self, installed: Venv) -> None:
        code = (
            "import importlib, random, numpy\nnumpy.random.rand()\n"
            "importlib.reload(random)\nimportlib.reload(numpy.random)\nprint('ok')\n"
        )
        env = clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1")
        result = check(installed.run("-c", code, env=env))
        assert result.stdout == "ok\n", describe(result)
        assert result.stderr.splitlines() == [
            "autoseed: restarted once with PYTHONHASHSEED=3",
            "autoseed: seeded random with 3",
            "autoseed: seeded numpy with 3",
        ]


def test_many_processes_at_once_agree(installed: Venv) -> None:
    """32 light processes and 4 full legacy runs, all started together on 2 cores."""
    light = (
        "import hashlib, random, numpy\n"
        "print(hashlib.sha256(repr((random.random(), numpy.random.rand(8).tolist()))"
        ".encode()).hexdigest())"
    )
    env = clean_env(AUTOSEED="1024")
    processes = [
        subprocess.Popen(
            [str(installed.python), "-c", light], env=env, cwd=NEUTRAL_DIRECTORY,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(32)
    ] + [
        subprocess.Popen(
            [str(installed.python), str(LEGACY_SCRIPT)], env=env, cwd=NEUTRAL_DIRECTORY,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]  # fmt: skip
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert len({out for out, _ in outputs[:32]}) == 1
    assert len({out for out, _ in outputs[32:]}) == 1
    assert all(err == "" for _, err in outputs)


class TestHostileEnvFiles:
    def test_nothing_is_imported_or_executed(self, installed: Venv, tmp_path: Path) -> None:
        """${VAR} is expanded as python-dotenv expands it (to an invalid seed here); $(...) is
        never run."""
        marker = tmp_path / "pwned"
        (tmp_path / ".env").write_text(
            f"AUTOSEED_SEEDERS=os:system\n"
            f"AUTOSEED_PLUGIN=antigravity\n"
            f"AUTOSEED_CUDNN=$(touch {marker})\n"
            f"AUTOSEED=${{HOME}}\n"
            f"PYTHONPATH=/tmp/evil\nPYTHONSTARTUP=/tmp/evil.py\nLD_PRELOAD=/tmp/evil.so\n"
        )
        code = (
            "import os, sys\n"
            "print(sorted(m for m in ('antigravity', 'webbrowser') if m in sys.modules))\n"
            "print([k for k in ('PYTHONPATH', 'PYTHONSTARTUP', 'LD_PRELOAD') if k in os.environ])\n"
        )
        result = check(installed.run("-c", code, cwd=tmp_path))
        assert result.stdout.splitlines() == ["[]", "[]"], describe(result)
        assert not marker.exists()
        refused = installed.run("-c", "import numpy", cwd=tmp_path)
        home = clean_env()["HOME"]
        assert refused.stderr.startswith(f"autoseed: AUTOSEED={home!r} ("), describe(refused)
        assert "is not valid" in refused.stderr and not marker.exists()

    def test_very_long_lines(self, installed: Venv, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("X=" + "y" * 900_000 + "\nAUTOSEED=3\nAUTOSEED_VERBOSE=1\n")
        result = check(installed.run("-c", "import random", cwd=tmp_path))
        assert result.stderr == RESTARTED_AND_SEEDED, describe(result)
        (tmp_path / ".env").write_text("AUTOSEED=" + "9" * 500_000 + "\n")
        long_value = installed.run("-c", "import numpy", cwd=tmp_path)
        line = long_value.stderr.splitlines()[0]
        assert line.startswith("autoseed: AUTOSEED='999") and len(line) < 400, describe(long_value)

    def test_only_autoseed_keys_reach_the_process_and_its_children(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("API_TOKEN=sk-live-123\nAUTOSEED=3\n")
        code = (
            "import os, subprocess, sys\n"
            "print(os.environ.get('API_TOKEN'))\n"
            "subprocess.run([sys.executable, '-c', "
            '\'import os; print(os.environ.get("API_TOKEN"), os.environ.get("AUTOSEED"))\'])\n'
        )
        result = check(installed.run("-c", code, cwd=tmp_path))
        # Not even AUTOSEED: settings from a .env are not exported (each process reads its own).
        assert result.stdout.splitlines() == ["None", "None None"], describe(result)


def test_threads_seeding_in_process_is_safe() -> None:
    """Many threads calling seed_everything at once never raise (the hook's lock)."""
    code = (
        "import threading, autoseed\n"
        "errors = []\n"
        "def go(i):\n"
        "    try:\n        autoseed.seed_everything(i)\n"
        "    except Exception as exc:\n        errors.append(exc)\n"
        "threads = [threading.Thread(target=go, args=(i,)) for i in range(16)]\n"
        "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(errors)\n"
    )
    result = check(run([sys.executable, "-c", code], env=clean_env(PYTHONPATH=str(ROOT))))
    assert result.stdout == "[]\n", describe(result)
    assert threading.active_count() >= 1
