"""`AUTOSEED=N python script.py` fixes the script's own hash(): one restart, where it is safe."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from conftest import NEUTRAL_DIRECTORY, Venv, check, clean_env, describe, run

pytestmark = pytest.mark.slow

# The order of a set of strings follows hash(): the classic vocabulary that differs run to run.
VOCAB = (
    "import os, random\n"
    "words = 'the quick brown fox jumps over the lazy dog and runs far away'.split()\n"
    "vocab = list(set(words))\n"
    "print(vocab, random.random())\n"
    "print(os.environ.get('PYTHONHASHSEED'), '_AUTOSEED_HANDOVER' in os.environ)\n"
)
RESTARTED = "restarted once with PYTHONHASHSEED="


@pytest.fixture
def vocab(tmp_path: Path) -> Path:
    script = tmp_path / "vocab.py"
    script.write_text(VOCAB)
    return script


def outputs(venv: Venv, script: Path, times: int, **env: str) -> set[str]:
    return {check(venv.run(str(script), env=clean_env(**env))).stdout for _ in range(times)}


def test_plain_autoseed_repeats_a_hash_dependent_script(installed: Venv, vocab: Path) -> None:
    (seeded,) = outputs(installed, vocab, 3, AUTOSEED="1024")
    assert seeded.splitlines()[1] == "1024 False", "hash seed fixed, hand-over consumed"
    (other,) = outputs(installed, vocab, 2, AUTOSEED="7")
    assert other.splitlines()[0] != seeded.splitlines()[0], "another seed, another order"
    kept = outputs(installed, vocab, 5, AUTOSEED="1024", AUTOSEED_HASHSEED="keep")
    assert len({out.splitlines()[0] for out in kept}) > 1, "keep must leave hash() random"
    assert {out.split("] ")[1].split()[0] for out in kept} == {"0.7970515714521261"}


def test_a_seed_from_a_parent_env_file_fixes_hash_the_same_way(
    installed: Venv, vocab: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / ".env").write_text("AUTOSEED=1024\n")
    results = {
        check(installed.run(str(vocab), cwd=project / "src", env=clean_env())).stdout
        for _ in range(2)
    }
    assert results == outputs(installed, vocab, 1, AUTOSEED="1024")


def test_the_pid_and_stdin_are_the_same_after_the_restart(installed: Venv, tmp_path: Path) -> None:
    script = tmp_path / "pid.py"
    script.write_text("import os, sys\nprint(os.getpid(), sys.stdin.read(), hash('abc'))\n")
    process = subprocess.Popen(
        [str(installed.python), str(script)],
        env=clean_env(AUTOSEED="5"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=NEUTRAL_DIRECTORY,
    )
    out, err = process.communicate("from the parent", timeout=60)
    pid, text, hashed = out.split()[0], " ".join(out.split()[1:-1]), out.split()[-1]
    assert (pid, text, err) == (str(process.pid), "from the parent", ""), out + err
    fixed = check(installed.run("-c", "print(hash('abc'))", env=clean_env(PYTHONHASHSEED="5")))
    assert hashed == fixed.stdout.strip()


@pytest.mark.parametrize(
    ("flags", "stdin", "reason"),
    [
        (["-"], "print('ran')", "reads its program from stdin"),
        (["-i", "-c", "print('ran')"], "", "interactive"),
        (["-E", "-c", "print('ran')"], None, "python -E (or -I) would ignore PYTHONHASHSEED"),
    ],
)
def test_no_restart_where_unsafe_silent_unless_asked(
    installed: Venv, flags: list[str], stdin: str | None, reason: str
) -> None:
    plain = run([str(installed.python), *flags], env=clean_env(AUTOSEED="5"), input=stdin)
    assert plain.returncode == 0 and "ran" in plain.stdout, describe(plain)
    assert "autoseed" not in plain.stderr, describe(plain)
    explicit = clean_env(AUTOSEED="5", AUTOSEED_HASHSEED="reexec")
    told = run([str(installed.python), *flags], env=explicit, input=stdin)
    assert "ran" in told.stdout, describe(told)
    (line,) = [line for line in told.stderr.splitlines() if "autoseed" in line]
    assert line.startswith("autoseed: AUTOSEED_HASHSEED: no restart, ") and reason in line


def test_a_hash_seed_the_user_set_is_kept_without_a_restart(installed: Venv) -> None:
    env = clean_env(AUTOSEED="9", AUTOSEED_VERBOSE="1", PYTHONHASHSEED="4")
    code = "import os, random; print(os.environ['PYTHONHASHSEED'])"
    result = check(installed.run("-c", code, env=env))
    assert (result.stdout, result.stderr) == ("4\n", "autoseed: seeded random with 9\n")


def test_status_always_says_what_happened_to_the_hash_seed(installed: Venv) -> None:
    # The autoseed command itself never restarts: it says what a script started so would get.
    status = [str(installed.bin / "autoseed"), "status"]
    restarts = check(run(status, env=clean_env(AUTOSEED="9")))
    assert (
        "PYTHONHASHSEED: unset; a script started with this configuration restarts once with "
        "PYTHONHASHSEED=9, so hash() and set order repeat"
    ) in restarts.stdout, describe(restarts)
    kept = check(run(status, env=clean_env(AUTOSEED="9", AUTOSEED_HASHSEED="keep")))
    assert "not fixed in this process (AUTOSEED_HASHSEED='keep')" in kept.stdout, describe(kept)
    mine = check(run(status, env=clean_env(AUTOSEED="9", PYTHONHASHSEED="4")))
    assert (
        "PYTHONHASHSEED=4: set by you (or the program that started this one); kept" in mine.stdout
    )
    as_json = json.loads(check(run([*status, "--json"], env=clean_env(AUTOSEED="9"))).stdout)
    assert as_json["hash_seed"]["repeats"] is True


def test_a_script_that_execs_itself_restarts_once(installed: Venv, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    script = tmp_path / "again.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(starts)!r}, 'a').write(os.environ['PYTHONHASHSEED'] + ' ')\n"
        "if len(sys.argv) == 1:\n"
        "    os.execv(sys.executable, [sys.executable, __file__, 'again'])\n"
    )
    result = check(installed.run(str(script), env=clean_env(AUTOSEED="3", AUTOSEED_VERBOSE="1")))
    assert result.stderr.count(RESTARTED) == 1, describe(result)
    assert starts.read_text() == "3 3 ", "the script ran once per exec of its own"


def test_a_drawn_seed_survives_the_restart_and_reaches_children(installed: Venv) -> None:
    code = (
        "import os, random, subprocess, sys\n"
        "print(os.environ['PYTHONHASHSEED'], random.getrandbits(32))\n"
        "sys.stdout.flush()\n"
        "subprocess.run([sys.executable, '-c', 'import os, random; "
        'print(os.environ["PYTHONHASHSEED"], random.getrandbits(32))\'], check=True)\n'
    )
    result = check(installed.run("-c", code, env=clean_env(AUTOSEED="random")))
    (announced,) = result.stderr.splitlines()
    seed = announced.removeprefix("autoseed: AUTOSEED=")
    parent, child = result.stdout.splitlines()
    assert parent == child and parent.split()[0] == seed, describe(result)


def test_restart_happens_once_under_torchrun(installed: Venv) -> None:
    env = clean_env(AUTOSEED="1024", AUTOSEED_VERBOSE="1")
    result = check(
        installed.run(
            "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            str(Path(__file__).parent / "scripts" / "dist_digest.py"), env=env, timeout=240,
        )
    )  # fmt: skip
    assert result.stdout.count(" seed 1024 ") == 2, describe(result)
    assert result.stderr.count(RESTARTED) == 1, describe(result)


def test_restart_happens_once_with_spawn_workers(installed: Venv, tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(
        "import multiprocessing as mp\n"
        "def order(_):\n"
        "    return list({'a', 'b', 'c', 'd', 'e', 'f'})\n"
        "if __name__ == '__main__':\n"
        "    with mp.get_context('spawn').Pool(2) as pool:\n"
        "        print(pool.map(order, range(4)) + [order(0)])\n"
    )
    env = clean_env(AUTOSEED="11", AUTOSEED_VERBOSE="1")
    results = [check(installed.run(str(script), env=env, timeout=120)) for _ in range(2)]
    assert results[0].stdout == results[1].stdout, describe(results[1])
    orders = ast.literal_eval(results[0].stdout)
    assert len({tuple(order) for order in orders}) == 1, "workers share the parent's hash seed"
    assert results[0].stderr.count(RESTARTED) == 1, describe(results[0])


class TestVerifyRunsTheCommandAsTheUserDoes:
    def test_reproducible_by_default(self, installed: Venv, vocab: Path) -> None:
        verify = [str(installed.bin / "autoseed"), "verify", "--seed", "1024", "--"]
        result = check(run([*verify, str(installed.python), str(vocab)]))
        assert result.stdout.startswith("reproducible (2 runs, AUTOSEED=1024)"), describe(result)

    def test_keep_makes_a_hash_dependent_script_not_reproducible(
        self, installed: Venv, vocab: Path
    ) -> None:
        verify = [str(installed.bin / "autoseed"), "verify", "--runs", "4", "--seed", "1024", "--"]
        env = clean_env(AUTOSEED_HASHSEED="keep")
        result = run([*verify, str(installed.python), str(vocab)], env=env)
        assert result.returncode == 1, describe(result)
        assert result.stdout.startswith("not reproducible (AUTOSEED=1024)"), describe(result)

    def test_the_runs_get_the_users_environment_plus_autoseed_only(
        self, installed: Venv, tmp_path: Path
    ) -> None:
        seen = tmp_path / "seen"
        shell = f'echo "$AUTOSEED ${{PYTHONHASHSEED-unset}}" | tee {seen}'
        verify = [str(installed.bin / "autoseed"), "verify", "--seed", "5", "--", "sh", "-c"]
        check(run([*verify, shell], env=clean_env(AUTOSEED="9")))
        assert seen.read_text() == "5 unset\n"
        check(run([*verify, shell], env=clean_env(PYTHONHASHSEED="3")))
        assert seen.read_text() == "5 3\n"
