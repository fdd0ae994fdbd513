"""Property tests: any text in any setting gives a plan or one ConfigError, never a crash."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autoseed
from autoseed.names import env_file_might_ask, looks_like_setting
from autoseed.settings.env_file import EnvFile, read_env_file
from autoseed.settings.plan import (
    KNOWN_VARIABLES,
    MAX_SEED,
    RANK_VARIABLES,
    ConfigError,
    SeedPlan,
    collect_settings,
    resolve_config,
)
from autoseed.settings.sources import settings_from_env_file

VARIABLES = [*KNOWN_VARIABLES, "AUTOSEED_UNKNOWN"]
ON_WORDS = st.sampled_from(["1", "true", "yes", "on", "1024", "random", "warn", "reexec"])


@settings(max_examples=400)
@given(
    variable=st.sampled_from(VARIABLES),
    value=st.text(),
    neighbours=st.dictionaries(st.sampled_from(VARIABLES), ON_WORDS, max_size=4),
)
def test_any_value_gives_a_plan_or_a_config_error_naming_the_variable(
    variable: str, value: str, neighbours: dict[str, str]
) -> None:
    environ = {**neighbours, variable: value}
    try:
        plan = resolve_config(collect_settings(environ), environ)
    except ConfigError as error:
        assert any(f"{name}=" in str(error) for name in (*VARIABLES, *RANK_VARIABLES))
        assert "\n" not in str(error)
    else:
        assert isinstance(plan, SeedPlan)
        assert plan.seed is None or 0 <= plan.seed <= MAX_SEED


@settings(max_examples=200)
@given(rank_variable=st.sampled_from(RANK_VARIABLES), rank=st.text())
def test_any_rank_gives_a_plan_or_a_config_error(rank_variable: str, rank: str) -> None:
    environ = {"AUTOSEED": "7", "AUTOSEED_RANK_OFFSET": "1", rank_variable: rank}
    try:
        plan = resolve_config(collect_settings(environ), environ)
    except ConfigError as error:
        assert str(error).startswith(f"{rank_variable}=")
    else:
        assert plan.effective_seed is not None and 0 <= plan.effective_seed <= MAX_SEED


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=4096) | st.text(max_size=2048).map(str.encode))
def test_any_env_file_content_parses_without_raising(content: bytes) -> None:
    """Any bytes give settings, or one single-line ConfigError naming the file and line: a line
    that sets an AUTOSEED* key but cannot be parsed is an invalid value, never skipped."""
    try:
        data = b"AUTOSEED=1\n" + content
        settings_found, notes = settings_from_env_file(
            EnvFile(str(Path("/project/.env")), False, data, size=len(data)), {}
        )
    except ConfigError as error:
        assert "\n" not in str(error) and "(/project/.env, line " in str(error), str(error)
        return
    # Names that only look like settings are kept, to be reported as misspellings.
    assert all(looks_like_setting(name) for name in settings_found)
    assert all("\n" not in note.text for note in notes)


@pytest.mark.usefixtures("isolated_state")
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=MAX_SEED))
def test_seed_everything_twice_gives_identical_first_draws(seed: int) -> None:
    def first_draws() -> tuple[float, float, float]:
        return random.random(), float(np.random.rand()), float(torch.rand(1).item())

    autoseed.seed_everything(seed)
    first = first_draws()
    autoseed.seed_everything(seed)
    assert first_draws() == first


GATE_PIECES = [
    "AUTOSEED", "autoseed", "AUTO_SEED", "AUTOSED", "A_U_T_O", "EED", "AUTH", "export ", "=", "'",
    '"', "#", " ", "\t", "\n", "\r", "x", "1", "\ufeff", "ß", "ﬆ", "\x00", "\u2028", "\x85",
]  # fmt: skip


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.lists(st.sampled_from(GATE_PIECES), max_size=20).map(lambda p: "".join(p).encode())
    | st.binary(max_size=512)
    | st.sampled_from(["utf-16", "utf-16-be", "utf-32"]).map(lambda c: "AUTOSEED=1\n".encode(c))
)
def test_the_gate_never_steps_over_a_env_file_the_package_would_read(content: bytes) -> None:
    """The gate's look into a .env (names.env_file_might_ask, which autoseed.pth spells out)
    passes every file whose settings, or whose trouble, the package would tell about."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, ".env")
        with open(path, "wb") as file:
            file.write(content)
        if read_env_file(path, False).has_news:
            assert env_file_might_ask(path), content
