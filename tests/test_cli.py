"""The ``autoseed`` command, run as users run it: the installed console script, real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from autoseed.start.install import EARLIER_CONTENTS, start_file_contents
from conftest import (
    BASE_PYTHON,
    LEGACY_SCRIPT,
    NEUTRAL_DIRECTORY,
    ROOT,
    Venv,
    check,
    clean_env,
    describe,
    make_venv,
    run,
)

pytestmark = pytest.mark.slow

HASH_CODE = "print(hash('abc'), list({'a', 'b', 'c', 'd', 'e'}))"


def autoseed(venv: Venv, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run([str(venv.bin / "autoseed"), *args], **kwargs)  # type: ignore[arg-type]


def test_installer_writes_what_the_wheel_ships(installed: Venv) -> None:
    for name, content in start_file_contents().items():
        assert (installed.site_packages / name).read_text() == content


@pytest.mark.parametrize("command", ["status", "run", "verify", "install", "uninstall"])
def test_every_command_has_help_with_an_example(installed: Venv, command: str) -> None:
    result = check(installed.run("-m", "autoseed", command, "--help"))
    assert "example" in result.stdout, describe(result)


class TestStatus:
    def test_from_the_environment(self, installed: Venv) -> None:
        result = check(autoseed(installed, "status", env=clean_env(AUTOSEED="1024")))
        out = result.stdout
        assert "start-up hook: ran in this process and is active" in out, describe(result)
        assert "AUTOSEED='1024' (from the environment)" in out
        assert (
            "AUTOSEED_CUDNN: deterministic when AUTOSEED or AUTOSEED_DETERMINISTIC is on, else "
            "keep (default)"
        ) in out
        assert "seeded torch with 1024; cudnn deterministic" in out
        assert "seeded numpy with 1024" in out
        assert str(installed.site_packages / "autoseed.pth") in out

    def test_from_an_env_file_with_its_line(self, installed: Venv, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("A=1\nAUTOSEED=random\nAUTOSEED_CUDNN=benchmark\n")
        (tmp_path / "sub").mkdir()
        result = check(autoseed(installed, "status", "--json", cwd=tmp_path / "sub"))
        report = json.loads(result.stdout)
        assert report["env_files_considered"] == [
            str(tmp_path / "sub" / ".env"),
            str(tmp_path / ".env"),
        ]
        assert report["env_file_used"] == str(tmp_path / ".env")
        seed = report["settings"]["AUTOSEED"]
        assert seed == {
            "value": "random",
            "source": f"{tmp_path / '.env'}, line 2",
            "default": "off",
            "meaning": "a seed drawn at each start",
        }
        assert report["settings"]["AUTOSEED_CUDNN"]["source"] == f"{tmp_path / '.env'}, line 3"
        assert report["seed"] == "random" and report["cudnn"] == "benchmark"
        assert report["would_seed"]["numpy"]["importable"] is True
        # The status process drew a seed for itself at start-up, but has no use to announce it.
        assert result.stderr == "", describe(result)

    def test_defaults_and_exit_status(self, installed: Venv) -> None:
        result = check(autoseed(installed, "status"))
        assert "AUTOSEED: off (default)" in result.stdout
        assert "numpy" in result.stdout and "left alone" in result.stdout

    def test_invalid_configuration_exits_1_and_says_it_once(self, installed: Venv) -> None:
        result = autoseed(installed, "status", env=clean_env(AUTOSEED="12a4"))
        assert result.returncode == 1, describe(result)
        assert "configuration: INVALID: AUTOSEED='12a4' (from the environment)" in result.stdout
        assert result.stderr.count("AUTOSEED='12a4'") == 1, describe(result)

    def test_without_the_pth(self, fresh_venv: Venv, wheel: Path) -> None:
        fresh_venv.pip("install", "--no-index", "--no-deps", str(wheel))
        check(autoseed(fresh_venv, "uninstall"))
        result = check(autoseed(fresh_venv, "status", env=clean_env(AUTOSEED="5")))
        assert "start-up files: none installed" in result.stdout, describe(result)
        assert "start-up hook: not installed for this interpreter" in result.stdout


class TestRun:
    def test_fixes_the_hash_seed_of_the_launched_interpreter(self, installed: Venv) -> None:
        seeded = {
            check(
                autoseed(installed, "run", "1024", "--", str(installed.python), "-c", HASH_CODE)
            ).stdout
            for _ in range(2)
        }
        assert len(seeded) == 1
        plain = {check(installed.run("-c", HASH_CODE)).stdout for _ in range(3)}
        assert len(plain) > 1, "without autoseed run the hash must vary"

    def test_configured_seed_and_environment(self, installed: Venv) -> None:
        code = "import os; print(os.environ['AUTOSEED'], os.environ['PYTHONHASHSEED'])"
        result = check(
            autoseed(
                installed, "run", "--", str(installed.python), "-c", code,
                env=clean_env(AUTOSEED="77"),
            )
        )  # fmt: skip
        assert result.stdout == "77 77\n", describe(result)
        drawn = check(autoseed(installed, "run", "--", str(installed.python), "-c", code))
        seed = drawn.stdout.split()[0]
        assert drawn.stderr == f"autoseed: AUTOSEED={seed}\n", describe(drawn)

    def test_exec_passes_pid_exit_status_and_signals_through(self, installed: Venv) -> None:
        launcher = str(installed.bin / "autoseed")
        process = subprocess.Popen(
            [launcher, "run", "1", "--", "sh", "-c", "echo $$"],
            stdout=subprocess.PIPE, text=True, env=clean_env(), cwd=NEUTRAL_DIRECTORY,
        )  # fmt: skip
        out, _ = process.communicate(timeout=60)
        assert int(out) == process.pid, "the command must replace autoseed, not run under it"
        status = autoseed(installed, "run", "1", "--", str(installed.python), "-c", "exit(7)")
        assert status.returncode == 7
        killed = autoseed(
            installed, "run", "1", "--", str(installed.python), "-c",
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        )  # fmt: skip
        assert killed.returncode == -signal.SIGTERM

    def test_errors(self, installed: Venv) -> None:
        missing = autoseed(installed, "run", "1", "--", "no-such-command-here")
        assert missing.returncode == 127
        assert missing.stderr == "autoseed: run: command not found: no-such-command-here\n"
        bad = autoseed(installed, "run", "off", "--", "true")
        assert bad.returncode == 2 and bad.stdout == "", describe(bad)
        assert bad.stderr == (
            "autoseed: run: SEED='off' (from the command line) is not valid; expected an "
            "integer 0..4294967295 or 'random'\n"
        )
        for words, missing in [
            ((), "autoseed run [SEED] -- python train.py"),
            (("1",), "autoseed run 1 -- python train.py"),
        ]:
            usage = autoseed(installed, "run", *words)
            assert usage.returncode == 2 and usage.stdout == "", describe(usage)
            assert f"run: no command given; put it after --, e.g. {missing}" in usage.stderr
        after = autoseed(installed, "run", "1", "--")
        assert after.returncode == 2 and "give the command to run after --" in after.stderr


class TestVerify:
    def test_legacy_example_is_reproducible_and_varies_without_a_seed(
        self, installed: Venv
    ) -> None:
        result = autoseed(
            installed, "verify", "--seed", "3", "--baseline", "--",
            str(installed.python), str(LEGACY_SCRIPT),
        )  # fmt: skip
        assert result.returncode == 0, describe(result)
        assert result.stdout.splitlines() == [
            "reproducible (2 runs, AUTOSEED=3)",
            "baseline: without a seed the output varies, so seeding is what fixes it",
        ]
        assert "autoseed: verify: run 2 of 2 (AUTOSEED=3)..." in result.stderr

    def test_clock_and_urandom_are_not_reproducible(self, installed: Venv) -> None:
        code = "import os, random; print(random.random()); print(os.urandom(8).hex())"
        result = autoseed(installed, "verify", "--", str(installed.python), "-c", code)
        assert result.returncode == 1, describe(result)
        lines = result.stdout.splitlines()
        assert "stdout differs from run 1 in run 2, first at line 2" in lines[0]
        assert lines[1:3] == ["--- run 1 stdout", "+++ run 2 stdout"]
        assert any(line.startswith("-") and not line.startswith("---") for line in lines)

    def test_compare_files(self, installed: Venv, tmp_path: Path) -> None:
        out = tmp_path / "metrics.txt"
        steady = f"import random; open({str(out)!r}, 'w').write(str(random.random()))"
        ok = autoseed(
            installed, "verify", "--runs", "3", "--compare", str(out), "--",
            str(installed.python), "-c", steady,
        )  # fmt: skip
        assert ok.returncode == 0 and ok.stdout.startswith("reproducible (3 runs"), describe(ok)
        drifting = f"import time; open({str(out)!r}, 'w').write(str(time.time_ns()))"
        bad = autoseed(
            installed, "verify", "--compare", str(out), "--", str(installed.python), "-c", drifting
        )
        assert bad.returncode == 1, describe(bad)
        assert f"{out} differs from run 1 in run 2, first at line 1" in bad.stdout

    def test_compared_files_that_no_run_writes_are_failures(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        never = tmp_path / "never.txt"
        verify = [str(installed.bin / "autoseed"), "verify", "--compare"]
        missing = run([*verify, str(never), "--", str(installed.python), "-c", "pass"])
        assert missing.returncode == 1, describe(missing)
        assert missing.stdout.startswith(f"failed: run 1 did not write {never}: missing after")
        stale = tmp_path / "stale.txt"
        stale.write_text("from last week\n")
        untouched = run([*verify, str(stale), "--", str(installed.python), "-c", "pass"])
        assert untouched.returncode == 1, describe(untouched)
        assert untouched.stdout == (
            f"failed: run 1 did not write {stale}: its modification time did not change: "
            "a stale file, not written\n"
        )

    def test_baseline_says_when_the_verdict_is_trivial(self, installed: Venv) -> None:
        result = autoseed(
            installed, "verify", "--baseline", "--", str(installed.python), "-c", "print(1)"
        )
        assert result.returncode == 0
        assert "the same output without a seed too" in result.stdout

    def test_failing_command_and_usage(self, installed: Venv) -> None:
        failing = autoseed(installed, "verify", "--", str(installed.python), "-c", "exit(3)")
        assert failing.returncode == 1 and "exited with status 3" in failing.stdout
        assert autoseed(installed, "verify", "--runs", "1", "--", "true").returncode == 2
        assert autoseed(installed, "verify").returncode == 2

    def test_usage_errors_are_said_once_on_stderr_and_exit_2(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        bad_seed = autoseed(installed, "verify", "--seed", "x", "--", "true")
        assert (bad_seed.returncode, bad_seed.stdout) == (2, ""), describe(bad_seed)
        assert bad_seed.stderr == (
            "autoseed: verify: SEED='x' (from the command line) is not valid; expected an "
            "integer 0..4294967295 or 'random'\n"
        )
        bad_env = autoseed(installed, "verify", "--", "true", env=clean_env(AUTOSEED="abc"))
        assert (bad_env.returncode, bad_env.stdout) == (2, ""), describe(bad_env)
        assert bad_env.stderr.count("\n") == 1, describe(bad_env)
        assert bad_env.stderr.startswith(
            "autoseed: verify: AUTOSEED='abc' (from the environment) is not valid"
        )
        directory = autoseed(installed, "verify", "--compare", str(tmp_path), "--", "true")
        assert (directory.returncode, directory.stdout) == (2, ""), describe(directory)
        assert (
            f"--compare takes a file that the command writes; {tmp_path} is a directory"
        ) in directory.stderr

    @pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
    def test_a_signal_stops_the_running_command_without_a_traceback(
        self, installed: Venv, tmp_path: Path, sent: int, status: int
    ) -> None:
        pid_file = tmp_path / "run.pid"
        code = (
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(120)"
        )
        verify = subprocess.Popen(
            [str(installed.bin / "autoseed"), "verify", "--", str(installed.python), "-c", code],
            env=clean_env(), cwd=NEUTRAL_DIRECTORY, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        verify.send_signal(sent)  # to verify alone, not its process group
        out, err = verify.communicate(timeout=60)
        assert verify.returncode == status, (out, err)
        assert "Traceback" not in err and out == "", (out, err)
        assert "the running command was stopped" in err, err
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)

    def test_a_verify_started_with_ctrl_c_ignored_still_stops_on_it(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        """A shell without job control (a script's ``cmd &``) starts background commands with
        SIGINT ignored; Ctrl-C to the process group must still stop verify and its command."""
        pid_file = tmp_path / "run.pid"
        code = (
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(120)"
        )
        verify = subprocess.Popen(
            [str(installed.bin / "autoseed"), "verify", "--", str(installed.python), "-c", code],
            env=clean_env(), cwd=NEUTRAL_DIRECTORY, text=True, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )  # fmt: skip
        try:
            for _ in range(600):
                if pid_file.exists() and pid_file.read_text():
                    break
                time.sleep(0.05)
            os.killpg(verify.pid, signal.SIGINT)  # Ctrl-C: the whole process group
            out, err = verify.communicate(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(verify.pid, signal.SIGKILL)
        assert verify.returncode == 130, (out, err)
        assert "Traceback" not in err and "the running command was stopped" in err, err
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)


class TestInstall:
    def test_install_is_idempotent_and_uninstall_removes_only_ours(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        target = str(tmp_path)
        refused = autoseed(installed, "install", "--target", target)
        assert refused.returncode == 1 and refused.stdout == "", describe(refused)
        assert f"autoseed: install: {tmp_path} is not a site directory" in refused.stderr
        assert "--any-directory" in refused.stderr and not list(tmp_path.iterdir())
        first = check(autoseed(installed, "install", "--any-directory", "--target", target))
        assert f"installed: {tmp_path / 'autoseed.pth'}" in first.stdout
        for name, content in start_file_contents().items():
            assert (tmp_path / name).read_text() == content
        again = check(autoseed(installed, "install", "--any-directory", "--target", target))
        assert again.stdout.count("already installed") == 3
        (tmp_path / "autoseed.start").write_text("someone.else:entry\n")
        removed = check(autoseed(installed, "uninstall", "--target", target))
        assert f"removed: {tmp_path / 'autoseed.pth'}" in removed.stdout
        assert f"removed: {tmp_path / '_autoseed_startup.py'}" in removed.stdout
        assert "was not written by autoseed; left alone" in removed.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["autoseed.start"]

    def test_missing_or_unwritable_targets_are_refused_cleanly(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        for target, reason in [
            (str(tmp_path / "missing"), "is not a directory"),
            ("/proc", "cannot write /proc/autoseed.pth"),
        ]:
            result = autoseed(installed, "install", "--any-directory", "--target", target)
            assert result.returncode == 1, describe(result)
            assert reason in result.stderr and "Traceback" not in result.stderr

    def test_install_into_a_venv_makes_a_source_checkout_fire(self, tmp_path: Path) -> None:
        """A source checkout on PYTHONPATH, no pip install: `autoseed install` adds the hook."""
        venv = make_venv(tmp_path / "venv")
        env = clean_env(PYTHONPATH=str(ROOT))
        check(venv.run("-m", "autoseed", "install", env=env))
        seeded = check(
            venv.run("-c", "import random", env={**env, "AUTOSEED": "1", "AUTOSEED_VERBOSE": "1"})
        )
        assert seeded.stderr.endswith("autoseed: seeded random with 1\n"), describe(seeded)
        # The checkout leaves PYTHONPATH: quiet at start, and no traceback ever. A seed asked
        # for and not delivered is said once, where it matters: at numpy's import.
        quiet = check(venv.run("-c", "print('ran')", env=clean_env(AUTOSEED="1")))
        assert (quiet.stdout, quiet.stderr) == ("ran\n", ""), describe(quiet)
        told = check(venv.run("-c", "import numpy, torch", env=clean_env(AUTOSEED="1")))
        assert told.stderr == (
            f"autoseed: AUTOSEED is set but {venv.python} cannot import autoseed, so nothing "
            f"was seeded; install autoseed for it, or remove {venv.site_packages}/autoseed.pth\n"
        ), describe(told)
        unasked = check(venv.run("-c", "import numpy", env=clean_env()))
        assert unasked.stderr == "", describe(unasked)
        check(venv.run("-m", "autoseed", "uninstall", env=env))
        assert not (venv.site_packages / "autoseed.pth").exists()

    @pytest.mark.parametrize("system_site_packages", [False, True])
    def test_user_site_from_a_venv_is_refused(
        self, wheel: Path, tmp_path: Path, system_site_packages: bool
    ) -> None:
        """Every interpreter of that Python reads the user site: not what a venv user means."""
        venv = make_venv(tmp_path / "venv", system_site_packages=system_site_packages)
        venv.pip("install", "--no-index", "--no-deps", str(wheel))
        home = tmp_path / "home"
        result = autoseed(venv, "install", "--user", env=clean_env(HOME=str(home)))
        assert result.returncode == 1, describe(result)
        assert "is read by every interpreter of Python" in result.stderr, describe(result)
        assert "not by this virtual environment alone" in result.stderr
        assert result.stderr.count("\n") == 1 and not home.exists()

    def test_user_site_outside_a_venv_says_what_reads_it(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        result = check(
            run(
                [BASE_PYTHON, "-m", "autoseed", "install", "--user"],
                env=clean_env(HOME=str(home), PYTHONPATH=str(ROOT)),
            )
        )
        assert "installed: " in result.stdout and str(home) in result.stdout, describe(result)
        assert "note: " in result.stdout and "read by every interpreter of Python" in result.stdout
        check(
            run(
                [BASE_PYTHON, "-m", "autoseed", "uninstall", "--user"],
                env=clean_env(HOME=str(home), PYTHONPATH=str(ROOT)),
            )
        )

    def test_uninstall_also_removes_what_the_wheel_or_an_older_install_wrote(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        for name, contents in EARLIER_CONTENTS.items():
            for content in contents:
                (tmp_path / name).write_text(content)
                check(autoseed(installed, "uninstall", "--target", str(tmp_path)))
                assert not list(tmp_path.iterdir())


class TestManners:
    def test_module_form_survives_a_closed_pipe(self, installed: Venv) -> None:
        result = run(
            ["sh", "-c", f"{installed.python} -m autoseed status | head -1"],
            env=clean_env(AUTOSEED="1"),
        )
        assert result.stdout.startswith("autoseed ") and result.stdout.count("\n") == 1
        assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr

    def test_version(self, installed: Venv) -> None:
        result = check(autoseed(installed, "--version"))
        assert result.stdout == "autoseed 0.1.0\n", describe(result)

    def test_env_files_that_are_not_files_are_named_for_what_they_are(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        (tmp_path / "a" / "b" / "c" / ".env").mkdir(parents=True)
        os.mkfifo(tmp_path / "a" / "b" / ".env")
        (tmp_path / "a" / ".env").symlink_to(tmp_path / "a" / ".env")
        (tmp_path / ".env").write_text("AUTOSEED=5\n")
        report = json.loads(
            check(autoseed(installed, "status", "--json", cwd=tmp_path / "a" / "b" / "c")).stdout
        )
        assert list(report["env_file_states"].values()) == [
            "a directory, not a file: skipped",
            "a FIFO, not a file: skipped",
            "a symlink loop: skipped",
            "used",
        ], report["env_file_states"]

    @pytest.mark.parametrize("name", ["autoseed", "AUTO_SEED", "AutoSeed", "AUTOSED"])
    def test_misspelt_names_are_named_and_status_fails(
        self, installed: Venv, tmp_path: Path, name: str
    ) -> None:
        meant = f"{name} (from the environment) is not a setting and is ignored; did you mean "
        from_environment = autoseed(installed, "status", env=clean_env(**{name: "1"}))
        assert from_environment.returncode == 1, describe(from_environment)
        assert f"note: {meant}AUTOSEED?" in from_environment.stdout
        plain = check(installed.run("-c", "import numpy", env=clean_env(**{name: "1"})))
        assert plain.stderr == f"autoseed: {meant}AUTOSEED?\n", describe(plain)
        (tmp_path / ".env").write_text(f"{name}=1\n")
        in_file = check(installed.run("-c", "import numpy", cwd=tmp_path))
        assert in_file.stderr.startswith(f"autoseed: {name} (from {tmp_path / '.env'}, line 1)")
        assert in_file.stderr.count("\n") == 1 and "did you mean AUTOSEED?" in in_file.stderr

    def test_env_file_setting_inside_a_env_file_is_shown_as_ignored(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("AUTOSEED=5\nAUTOSEED_ENV_FILE=/elsewhere/.env\n")
        result = check(autoseed(installed, "status", cwd=tmp_path))
        assert "AUTOSEED_ENV_FILE: look up the nearest .env (default)" in result.stdout
        assert (
            f"note: AUTOSEED_ENV_FILE in {tmp_path / '.env'}, line 2 is ignored: it is read "
            "from the environment only"
        ) in result.stdout, describe(result)
