"""The public API in process: the same seeders the start-up hook uses, on real libraries."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import pytest
import torch

import autoseed
from conftest import ROOT, check, clean_env, describe, run

pytestmark = pytest.mark.usefixtures("isolated_state")


def first_draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1).item())


def test_same_seed_same_draws_different_seed_different_draws() -> None:
    autoseed.seed_everything(1024)
    first = first_draws()
    autoseed.seed_everything(1024)
    assert first_draws() == first
    autoseed.seed_everything(1025)
    assert first_draws() != first


def test_zero_is_a_seed_like_any_other() -> None:
    autoseed.seed_everything(0)
    first = first_draws()
    autoseed.seed_everything(0)
    assert first_draws() == first


def test_cudnn_flags() -> None:
    autoseed.seed_everything(1, cudnn="benchmark")
    assert torch.backends.cudnn.benchmark is True
    assert torch.backends.cudnn.deterministic is False
    autoseed.seed_everything(1)
    assert torch.backends.cudnn.benchmark is False
    assert torch.backends.cudnn.deterministic is True


def test_records_say_what_was_seeded_and_from_where() -> None:
    # numpy 2 imports numpy.random lazily: import it here, not by whichever test ran before
    # (under pytest-xdist this test may be a worker's first).
    assert np.random.__name__ == "numpy.random"
    plan = autoseed.seed_everything(77)
    assert autoseed.active_plan() is plan
    records = {record.library: record for record in autoseed.seeded()}
    assert set(records) == {"random", "numpy", "torch"}
    assert records["torch"].describe() == "seeded torch with 77; cudnn deterministic"
    assert records["numpy"].source == "seed_everything()"


def test_children_inherit_the_resolved_settings() -> None:
    autoseed.seed_everything(5, cudnn="keep")
    assert os.environ["AUTOSEED"] == "5"
    assert os.environ["AUTOSEED_CUDNN"] == "keep"
    assert os.environ["AUTOSEED_ENV_FILE"] == "none"
    assert os.environ["PYTHONHASHSEED"] == "5"


def test_a_hash_seed_the_user_set_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "123")
    autoseed.seed_everything(5)
    assert os.environ["PYTHONHASHSEED"] == "123"


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "12", True, None])
def test_invalid_seeds_are_refused(seed: object) -> None:
    with pytest.raises(autoseed.ConfigError, match=r"seed_everything\(seed=.*expected an integer"):
        autoseed.seed_everything(seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [np.int64(5), np.uint32(5), torch.tensor(5)])
def test_any_integral_number_is_a_seed(seed: object) -> None:
    plan = autoseed.seed_everything(seed)  # type: ignore[arg-type]
    assert plan.seed == 5 and type(plan.seed) is int
    assert os.environ["AUTOSEED"] == "5"


def test_invalid_cudnn_mode_is_refused() -> None:
    with pytest.raises(autoseed.ConfigError, match="AUTOSEED_CUDNN='fast'"):
        autoseed.seed_everything(1, cudnn="fast")


def test_package_import_stays_light() -> None:
    code = (
        "import sys, autoseed; heavy = {'numpy', 'torch', 'dotenv', 'logging', 'typing', "
        "'autoseed.settings.plan', 'autoseed.seeding.libraries'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = check(run([sys.executable, "-S", "-c", code], env=clean_env(PYTHONPATH=str(ROOT))))
    assert result.stdout.strip() == "[]", describe(result)
