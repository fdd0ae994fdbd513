"""Many processes: torchrun ranks, SLURM-style ranks, DataLoader workers, third-party seeders."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from conftest import (
    BASE_PYTHON,
    ROOT,
    SCRIPTS,
    Venv,
    build_wheel,
    check,
    clean_env,
    describe,
    make_venv,
    run,
    torchrun,
)

pytestmark = pytest.mark.slow

SEED_AND_CHILD = (
    "import os, subprocess, sys, torch\n"
    "print(torch.initial_seed(), os.environ['AUTOSEED'])\n"
    "subprocess.run([sys.executable, '-c', 'import os, torch; "
    'print(torch.initial_seed(), os.environ["AUTOSEED"])\'], check=True)\n'
)


def build_fakelib(directory: Path) -> Path:
    """A tiny real distribution: a library with its own generator and an autoseed seeder."""
    source = directory / "fakelib-src"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "fakelib"
            version = "1.0"

            [project.entry-points."autoseed.seeders"]
            fakelib = "fakelib_autoseed:seed"

            [tool.hatch.build.targets.wheel]
            include = ["fakelib.py", "fakelib_autoseed.py"]
            """
        )
    )
    (source / "fakelib.py").write_text(
        "import random\n_rng = random.Random()\n\n\ndef draw():\n    return _rng.random()\n"
    )
    (source / "fakelib_autoseed.py").write_text(
        "def seed(module, seed):\n    module._rng.seed(seed)\n    return 'its own Random'\n"
    )
    return build_wheel(source, directory / "fakelib-dist")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Venv:
    """autoseed and fakelib installed into one venv that reuses the base torch and numpy."""
    directory = tmp_path_factory.mktemp("cluster")
    venv = make_venv(directory / "venv")
    venv.pip("install", "--no-index", "--no-deps", str(wheel), str(build_fakelib(directory)))
    return venv


def torchrun_digests(venv: Venv, **env: str) -> list[str]:
    result = torchrun(venv, "dist_digest.py", **env)
    found = r"rank \d+ seed \d+ init \w+ total \S+ hashseed \S+ hash \S+"
    lines = sorted(re.findall(found, result.stdout))
    assert len(lines) == 2, describe(result)
    return lines


class TestRanks:
    def test_torchrun_ranks_agree_and_runs_repeat(self, cluster: Venv) -> None:
        first = torchrun_digests(cluster, AUTOSEED="1024")
        assert torchrun_digests(cluster, AUTOSEED="1024") == first
        rank0, rank1 = (line.split() for line in first)
        assert rank0[3] == rank1[3] == "1024"
        assert rank0[5] == rank1[5], "model initialisation must agree across ranks"

    def test_rank_offset_gives_each_rank_its_own_seed(self, cluster: Venv) -> None:
        lines = torchrun_digests(cluster, AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1")
        assert [line.split()[3] for line in lines] == ["1024", "1025"]
        rank0, rank1 = (line.split()[5] for line in lines)
        assert rank0 != rank1
        assert torchrun_digests(cluster, AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1") == lines

    @pytest.mark.parametrize("variable", ["SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"])
    def test_other_launchers_and_children_inherit_the_base_seed(
        self, cluster: Venv, variable: str
    ) -> None:
        env = clean_env(AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1", **{variable: "3"})
        result = check(cluster.run("-c", SEED_AND_CHILD, env=env))
        # The process and its child both use 1024 + 3; the child got AUTOSEED=1024, not 1027,
        # so a launcher-of-launchers never adds the rank twice.
        assert result.stdout.splitlines() == ["1027 1024", "1027 1024"], describe(result)

    def test_ranks_share_the_hash_seed_under_an_offset(self, cluster: Venv) -> None:
        """Hash order must agree across ranks (a vocabulary built from a set); each rank started
        as a top-level process (srun) restarts with the base seed, as torchrun's ranks inherit."""
        code = (
            "import os, torch; "
            "print(os.environ['PYTHONHASHSEED'], hash('abc'), torch.initial_seed())"
        )
        ranks = [
            check(cluster.run("-c", code, env=clean_env(
                AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1", SLURM_PROCID=rank))).stdout.split()
            for rank in ("0", "1")
        ]  # fmt: skip
        assert [rank[0] for rank in ranks] == ["1024", "1024"]
        assert ranks[0][1] == ranks[1][1], "hash() agrees across ranks"
        assert [rank[2] for rank in ranks] == ["1024", "1025"], "the generators get the offset"
        lines = torchrun_digests(cluster, AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1")
        assert {tuple(line.split()[8:]) for line in lines} == {
            ("hashseed", "1024", "hash", ranks[0][1])
        }, lines

    def test_deterministic_algorithms_with_cudnn_kept(self, cluster: Venv) -> None:
        code = (
            "import torch; b = torch.backends.cudnn; "
            "print(torch.are_deterministic_algorithms_enabled(), b.deterministic, b.benchmark)"
        )
        kept = clean_env(AUTOSEED="1", AUTOSEED_DETERMINISTIC="1", AUTOSEED_CUDNN="keep")
        assert check(cluster.run("-c", code, env=kept)).stdout == "True False False\n"
        default = clean_env(AUTOSEED="1", AUTOSEED_DETERMINISTIC="1")
        assert check(cluster.run("-c", code, env=default)).stdout == "True True False\n"

    def test_without_offset_every_rank_gets_the_same_seed(self, cluster: Venv) -> None:
        seeds = {
            check(
                cluster.run("-c", "import torch; print(torch.initial_seed())",
                            env=clean_env(AUTOSEED="1024", SLURM_PROCID=rank))
            ).stdout
            for rank in ("0", "1")
        }  # fmt: skip
        assert seeds == {"1024\n"}

    def test_status_shows_rank_and_effective_seed(self, cluster: Venv) -> None:
        env = clean_env(AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1", SLURM_PROCID="2")
        result = check(run([str(cluster.bin / "autoseed"), "status"], env=env))
        assert "rank: 2 (from SLURM_PROCID); seed 1024 + rank = 1026" in result.stdout
        assert "seeded torch with 1026" in result.stdout

    def test_bad_rank_is_a_clear_error(self, cluster: Venv) -> None:
        env = clean_env(AUTOSEED="1", AUTOSEED_RANK_OFFSET="1", RANK="first")
        result = cluster.run("-c", "import numpy", env=env)
        assert result.stderr.startswith("autoseed: RANK='first' (from the environment)")


def spawned_ranks(venv: Venv, *start_methods: str, **env: str) -> dict[str, list[str]]:
    """``spawn_ranks.py`` (PyTorch's DDP tutorial: ``torch.multiprocessing.spawn``, gloo):
    each rank's lines, sorted, and ``stderr`` its autoseed lines."""
    script = str(SCRIPTS / "spawn_ranks.py")
    methods = start_methods or ("fork",)
    result = check(venv.run(script, *methods, env=clean_env(**env), timeout=240))
    lines: dict[str, list[str]] = {"0": [], "1": []}
    for line in sorted(result.stdout.splitlines()):
        lines[line.split()[1]].append(" ".join(line.split()[2:]))
    lines["stderr"] = [line for line in result.stderr.splitlines() if "autoseed" in line]
    assert len(lines["0"]) == len(lines["1"]) == 5 + ("DRAW_BEFORE" in env), describe(result)
    return lines


class TestSpawnedRanks:
    """Ranks that ``torch.multiprocessing.spawn`` starts become ranks at init_process_group."""

    def test_ranks_agree_on_split_and_init_and_their_workers_differ(self, cluster: Venv) -> None:
        forked_workers = spawned_ranks(cluster, "fork", AUTOSEED="1024")
        # Workers started by spawn unpickle their target: the rank must travel with it.
        assert spawned_ranks(cluster, "spawn", AUTOSEED="1024") == forked_workers
        # Ranks forked (torch.multiprocessing.start_processes) join as the spawned ones do.
        assert spawned_ranks(cluster, "fork", "fork", AUTOSEED="1024") == forked_workers
        rank0, rank1 = forked_workers["0"], forked_workers["1"]
        assert rank0[0] == rank1[0], "split, model init and draws after joining must agree"
        assert rank0[0].startswith("seed 1024 split "), rank0
        workers0 = {value for line in rank0[1:] for value in line.split()[2:]}
        workers1 = {value for line in rank1[1:] for value in line.split()[2:]}
        assert len(workers0) == len(workers1) == 16, forked_workers
        assert not workers0 & workers1, "workers of different ranks drew the same numbers"
        assert forked_workers["stderr"] == [], forked_workers

    def test_rank_offset_takes_the_rank_given_to_init_process_group(self, cluster: Venv) -> None:
        ranks = spawned_ranks(cluster, AUTOSEED="1024", AUTOSEED_RANK_OFFSET="1")
        assert [ranks[rank][0].split()[1] for rank in "01"] == ["1024", "1025"], ranks
        assert ranks["0"][0].split()[3] != ranks["1"][0].split()[3], "splits must differ"

    def test_a_draw_before_joining_is_told_and_the_ranks_agree_after(self, cluster: Venv) -> None:
        ranks = spawned_ranks(cluster, AUTOSEED="1024", DRAW_BEFORE="1")
        assert ranks["0"][0] != ranks["1"][0], "each child drew from its own streams before"
        assert ranks["0"][1] == ranks["1"][1], ranks
        assert sorted(ranks["stderr"]) == [
            f"autoseed: rank {rank} drew from torch before init_process_group, as a child with "
            "streams of its own: those draws differ between the ranks; draw what the ranks "
            "must share (model init, random_split) after init_process_group"
            for rank in "01"
        ], ranks

    def test_a_seed_the_script_sets_before_joining_wins(self, cluster: Venv) -> None:
        ranks = spawned_ranks(cluster, AUTOSEED="1024", DRAW_BEFORE="1", SEED_ITSELF="1")
        assert ranks["0"][:2] == ranks["1"][:2], ranks
        assert ranks["0"][1].startswith("seed 42 split "), ranks
        assert ranks["stderr"] == [], ranks


BASE_BIN = str(Path(BASE_PYTHON).parent)  # where torch's console scripts are: torchrun


class TestLauncherOnPath:
    """The README's layout: torch in the base interpreter, autoseed in a venv that reuses it.
    The torchrun on PATH is the base's, which runs every rank without autoseed."""

    def path(self, venv: Venv, *first: str) -> dict[str, str]:
        return clean_env(PATH=os.pathsep.join([*first, str(venv.bin), BASE_BIN,
                                               os.environ["PATH"]]))  # fmt: skip

    def test_the_base_torchrun_runs_its_ranks_unseeded(self, cluster: Venv, tmp_path: Path) -> None:
        """Why the documented form is python -m torch.distributed.run: nothing of autoseed runs
        under the base's torchrun, so the ranks themselves cannot say it."""
        code = "import sys, torch; print(sys.executable, torch.initial_seed())"
        script = tmp_path / "which_python.py"
        script.write_text(code)
        env = self.path(cluster)
        launchers = {
            "torchrun": ["torchrun"],
            "module": [str(cluster.python), "-m", "torch.distributed.run"],
        }
        seen = {}
        for form, launcher in launchers.items():
            argv = [*launcher, "--standalone", "--nproc_per_node=1", str(script)]
            result = check(run(argv, env={**env, "AUTOSEED": "11"}, timeout=240))
            seen[form] = result.stdout.split()
            assert "autoseed" not in result.stderr, describe(result)
        assert seen["torchrun"][0].startswith(BASE_BIN), seen
        assert seen["torchrun"][1] != "11", seen
        assert seen["module"] == [str(cluster.python), "11"], seen

    def test_run_verify_and_status_name_the_mistake(self, cluster: Venv) -> None:
        env = self.path(cluster)
        torchrun = Path(BASE_BIN) / "torchrun"
        interpreter = torchrun.read_text().splitlines()[0].removeprefix("#!")
        said = (
            f"torchrun ({torchrun}) runs {interpreter}, where "
            "autoseed is not installed: nothing it starts is seeded; run "
            f"`{cluster.python} -m torch.distributed.run ...` instead"
        )
        autoseed = str(cluster.bin / "autoseed")
        ran = check(run([autoseed, "run", "11", "--", "torchrun", "--help"], env=env))
        assert ran.stderr.startswith(f"autoseed: run: {said}\n"), describe(ran)
        assert "usage: torchrun" in ran.stdout, "the command still runs"
        status = check(run([autoseed, "status"], env=env))
        assert f"note: {said}" in status.stdout.splitlines(), describe(status)
        verified = run([autoseed, "verify", "--seed", "1", "--", "python", "-c", "pass"],
                       env=clean_env(PATH=os.pathsep.join([BASE_BIN, env["PATH"]])))  # fmt: skip
        assert (
            f"autoseed: verify: python is {Path(BASE_BIN) / 'python'}, where autoseed is not "
            f"installed: nothing it starts is seeded; run `{cluster.python} ...` instead"
        ) in verified.stderr.splitlines(), describe(verified)

    def test_nothing_is_said_where_the_launcher_runs_autoseed(
        self, cluster: Venv, tmp_path: Path
    ) -> None:
        own = tmp_path / "torchrun"  # a console script of the venv's own interpreter
        own.write_text(f"#!{cluster.python}\nfrom torch.distributed.run import main\nmain()\n")
        own.chmod(0o755)
        env = self.path(cluster, str(tmp_path))
        autoseed = str(cluster.bin / "autoseed")
        ran = check(run([autoseed, "run", "11", "--", "torchrun", "--help"], env=env))
        assert ran.stderr == "", describe(ran)
        status = check(run([autoseed, "status"], env=env))
        assert "torchrun" not in status.stdout, describe(status)


class TestWorkers:
    @pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
    def test_workers_repeat_and_keep_distinct_streams(
        self, cluster: Venv, start_method: str
    ) -> None:
        script = str(SCRIPTS / "worker_streams.py")
        env = clean_env(AUTOSEED="1024")
        runs = [check(cluster.run(script, start_method, env=env, timeout=240)) for _ in range(2)]
        assert runs[0].stdout == runs[1].stdout, describe(runs[1])
        rows = [line.split() for line in runs[0].stdout.splitlines()]
        assert len(rows) == 6, describe(runs[0])
        by_worker = {row[0]: row[1:] for row in rows}
        assert set(by_worker) == {"0", "1"}
        for column, name in enumerate(["random", "numpy", "torch", "fakelib (imported late)"]):
            assert by_worker["0"][column] != by_worker["1"][column], f"{name} streams collide"
        unseeded = check(cluster.run(script, start_method, timeout=240))
        assert unseeded.stdout != runs[0].stdout


class TestThirdPartySeeders:
    def test_entry_point_seeder_seeds_its_library(self, cluster: Venv) -> None:
        code = "import fakelib; print(fakelib.draw())"
        env = clean_env(AUTOSEED="5", AUTOSEED_VERBOSE="1")
        first = check(cluster.run("-c", code, env=env))
        lines = first.stderr.splitlines()
        assert "autoseed: seeded fakelib with 5; its own Random" in lines, describe(first)
        assert check(cluster.run("-c", code, env=env)).stdout == first.stdout
        unseeded = {check(cluster.run("-c", code)).stdout for _ in range(2)}
        assert len(unseeded) == 2

    def test_discovery_costs_nothing_when_off_or_when_nobody_declares_seeders(
        self, cluster: Venv, installed: Venv
    ) -> None:
        probe = "import sys; print('importlib.metadata' in sys.modules)"
        assert check(cluster.run("-c", probe)).stdout == "False\n"
        # Seeded, where no distribution declares a seeder: importlib.metadata is never loaded.
        after_import = "import json, sys; print('importlib.metadata' in sys.modules)"
        result = check(installed.run("-c", after_import, env=clean_env(AUTOSEED="5")))
        assert result.stdout == "False\n"


class TestDeterministicAlgorithms:
    @pytest.mark.parametrize(("value", "warn_only"), [("1", "False"), ("warn", "True")])
    def test_turns_on_torch_deterministic_algorithms(
        self, cluster: Venv, value: str, warn_only: str
    ) -> None:
        code = (
            "import os, torch\n"
            "print(torch.are_deterministic_algorithms_enabled(), "
            "torch.is_deterministic_algorithms_warn_only_enabled(), "
            "torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, "
            "os.environ['CUBLAS_WORKSPACE_CONFIG'])"
        )
        env = clean_env(AUTOSEED="1", AUTOSEED_DETERMINISTIC=value)
        result = check(cluster.run("-c", code, env=env))
        assert result.stdout.split() == ["True", warn_only, "True", "False", ":4096:8"]

    def test_works_without_a_seed_and_keeps_a_user_workspace(self, cluster: Venv) -> None:
        code = (
            "import os, torch\nprint(torch.are_deterministic_algorithms_enabled(), "
            "os.environ['CUBLAS_WORKSPACE_CONFIG'])"
        )
        env = clean_env(AUTOSEED_DETERMINISTIC="1", CUBLAS_WORKSPACE_CONFIG=":16:8")
        assert check(cluster.run("-c", code, env=env)).stdout.split() == ["True", ":16:8"]

    def test_contradiction_with_benchmark_is_an_error(self, cluster: Venv) -> None:
        env = clean_env(AUTOSEED="1", AUTOSEED_DETERMINISTIC="1", AUTOSEED_CUDNN="benchmark")
        result = cluster.run("-c", "import torch", env=env)
        assert result.returncode == 1
        assert "AUTOSEED_CUDNN='benchmark' (from the environment) is not valid" in result.stderr


class TestNumpyGenerators:
    CODE = (
        "import numpy as np\n"
        "a, b = np.random.default_rng(), np.random.default_rng()\n"
        "print(a.random(), b.random(), np.random.default_rng(3).random())"
    )

    def test_unseeded_generators_follow_the_seed_in_call_order(self, cluster: Venv) -> None:
        env = clean_env(AUTOSEED="5")
        first = check(cluster.run("-c", self.CODE, env=env)).stdout.split()
        assert check(cluster.run("-c", self.CODE, env=env)).stdout.split() == first
        assert first[0] != first[1], "each call must get its own stream"
        explicit = check(
            cluster.run("-c", "import numpy as np; print(np.random.default_rng(3).random())")
        )
        assert first[2] == explicit.stdout.strip(), "a seeded call is untouched"

    def test_off_when_switched_off(self, cluster: Venv) -> None:
        env = clean_env(AUTOSEED="5", AUTOSEED_GENERATORS="0")
        runs = {check(cluster.run("-c", self.CODE, env=env)).stdout for _ in range(2)}
        assert len(runs) == 2


def test_gpu_check_claims_nothing_without_cuda(installed: Venv) -> None:
    result = check(installed.run(str(ROOT / "benchmarks" / "gpu_determinism.py")))
    assert result.stdout == "CUDA is not available: nothing measured, nothing claimed.\n"


class TestForkedChildren:
    @pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
    @pytest.mark.parametrize("workers", [2, 4])
    def test_numpy_generators_are_distinct_per_worker_and_repeat(
        self, cluster: Venv, start_method: str, workers: int
    ) -> None:
        script = str(SCRIPTS / "worker_generators.py")
        env = clean_env(AUTOSEED="1024")  # no opt-in
        runs = [
            check(cluster.run(script, start_method, str(workers), env=env, timeout=240))
            for _ in range(2)
        ]
        assert runs[0].stdout == runs[1].stdout, describe(runs[1])
        first_of = {}
        for line in runs[0].stdout.splitlines():
            worker, value = line.split()
            first_of.setdefault(worker, value)
        assert len(first_of) == workers, describe(runs[0])
        assert len(set(first_of.values())) == workers, "workers must not share default_rng streams"

    @pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
    def test_children_get_their_own_streams_and_repeat(
        self, cluster: Venv, start_method: str
    ) -> None:
        script = str(SCRIPTS / "fork_children.py")
        env = clean_env(AUTOSEED="1024")
        runs = [check(cluster.run(script, start_method, env=env, timeout=120)) for _ in range(2)]
        assert runs[0].stdout == runs[1].stdout, describe(runs[1])
        children = [line.split()[1:] for line in runs[0].stdout.splitlines()]
        assert len(children) == 2, describe(runs[0])
        assert not set(children[0]) & set(children[1]), "children drew the same numbers"
        unseeded = [check(cluster.run(script, start_method, timeout=120)) for _ in range(2)]
        assert unseeded[0].stdout != unseeded[1].stdout
