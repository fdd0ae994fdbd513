"""Unit tests of the configuration parsers, over every accepted and rejected spelling."""

from __future__ import annotations

import pytest

from autoseed.names import locate_env_file
from autoseed.settings.plan import (
    CUDNN_VARIABLE,
    ENVIRONMENT,
    KNOWN_VARIABLES,
    SEED_VARIABLE,
    VERBOSE_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    collect_settings,
    parse_cudnn_mode,
    parse_flag,
    parse_hash_seed_mode,
    parse_seed,
    resolve_config,
    shorten,
)


def env_setting(variable: str, raw: str) -> Setting:
    return Setting(variable, raw, ENVIRONMENT)


@pytest.mark.parametrize(
    ("raw", "seed"),
    [
        ("0", 0),
        ("1", 1),
        ("1024", 1024),
        (" 1024 ", 1024),
        ("0010", 10),
        ("4294967295", 4294967295),
    ],
)
def test_seed_integers(raw: str, seed: int) -> None:
    assert parse_seed(env_setting(SEED_VARIABLE, raw)) == seed


@pytest.mark.parametrize("raw", ["", " ", "off", "OFF", "none", "None", "false", "FALSE", "no"])
def test_seed_off_words(raw: str) -> None:
    assert parse_seed(env_setting(SEED_VARIABLE, raw)) is None


@pytest.mark.parametrize("raw", ["random", "RANDOM", " Random "])
def test_seed_random_word(raw: str) -> None:
    assert parse_seed(env_setting(SEED_VARIABLE, raw)) == "random"


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12a4",
        "-1",
        "+1",
        "4294967296",
        "1.5",
        "0x10",
        "1e3",
        "1_000",
        "١٢",
        "9" * 5000,
        "true",
        "yes",
        "on",
        "1 2",
    ],
)
def test_seed_rejects_with_variable_value_source_and_accepted_forms(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_seed(Setting(SEED_VARIABLE, raw, "/project/.env, line 3"))
    message = str(caught.value)
    assert message.startswith(f"AUTOSEED={shorten(raw)} (from /project/.env, line 3) is not valid")
    assert len(message) < 300, "a long value is cut, not echoed whole"
    assert "an integer 0..4294967295" in message
    assert "'random'" in message
    assert "'off'" in message


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "Yes", "on", " on "])
def test_flag_true_words(raw: str) -> None:
    assert parse_flag(env_setting(VERBOSE_VARIABLE, raw)) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", "", "  "])
def test_flag_false_words(raw: str) -> None:
    assert parse_flag(env_setting(VERBOSE_VARIABLE, raw)) is False


@pytest.mark.parametrize("raw", ["2", "y", "enable", "disabled", "tru"])
def test_flag_rejects(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"AUTOSEED_VERBOSE=.* \(from the environment\)"):
        parse_flag(env_setting(VERBOSE_VARIABLE, raw))


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("deterministic", "deterministic"),
        ("Deterministic", "deterministic"),
        ("benchmark", "benchmark"),
        ("BENCHMARK", "benchmark"),
        ("keep", "keep"),
        ("1", "deterministic"),
        ("true", "deterministic"),
        ("yes", "deterministic"),
        ("on", "deterministic"),
        ("0", "keep"),
        ("false", "keep"),
        ("no", "keep"),
        ("off", "keep"),
        ("", None),
    ],
)
def test_cudnn_modes(raw: str, mode: str | None) -> None:
    assert parse_cudnn_mode(env_setting(CUDNN_VARIABLE, raw)) == mode


@pytest.mark.parametrize("raw", ["fast", "determinstic", "2", "bench"])
def test_cudnn_rejects(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_cudnn_mode(env_setting(CUDNN_VARIABLE, raw))
    assert str(caught.value).startswith(f"AUTOSEED_CUDNN={raw!r} (from the environment)")
    assert "'deterministic', 'benchmark', 'keep'" in str(caught.value)


def test_environment_beats_env_file() -> None:
    file_settings = {
        SEED_VARIABLE: Setting(SEED_VARIABLE, "5", "/p/.env, line 1"),
        CUDNN_VARIABLE: Setting(CUDNN_VARIABLE, "benchmark", "/p/.env, line 2"),
    }
    settings = collect_settings({"AUTOSEED": "1024", "HOME": "/root"}, file_settings)
    plan = resolve_config(settings)
    assert plan.seed == 1024
    assert plan.source_of(SEED_VARIABLE) == ENVIRONMENT
    assert plan.cudnn == "benchmark"
    assert plan.source_of(CUDNN_VARIABLE) == "/p/.env, line 2"
    assert "HOME" not in settings


def test_defaults_follow_the_seed() -> None:
    assert resolve_config({}).active is False
    assert resolve_config({}).cudnn == "keep"
    seeded = resolve_config(collect_settings({"AUTOSEED": "7"}))
    assert (seeded.seed, seeded.cudnn, seeded.verbose) == (7, "deterministic", False)
    assert seeded.source_of(CUDNN_VARIABLE) == "default"


@pytest.mark.parametrize(
    ("cudnn", "expected"),
    [(None, "deterministic"), ("keep", "keep"), ("0", "keep"), ("deterministic", "deterministic")],
)
def test_deterministic_algorithms_honour_an_explicit_cudnn_mode(
    cudnn: str | None, expected: str
) -> None:
    """keep leaves the flags to torch: its deterministic algorithms pick deterministic cudnn
    convolutions by themselves (torch.use_deterministic_algorithms' documentation)."""
    environ = {"AUTOSEED_DETERMINISTIC": "1", **({"AUTOSEED_CUDNN": cudnn} if cudnn else {})}
    for seed in ({}, {"AUTOSEED": "3"}):
        plan = resolve_config(collect_settings({**environ, **seed}))
        assert (plan.deterministic, plan.cudnn) == ("on", expected)


def test_benchmark_contradicts_deterministic_algorithms() -> None:
    environ = {"AUTOSEED_DETERMINISTIC": "1", "AUTOSEED_CUDNN": "benchmark"}
    with pytest.raises(ConfigError) as caught:
        resolve_config(collect_settings(environ))
    assert "AUTOSEED_CUDNN='benchmark' (from the environment) is not valid; expected " in str(
        caught.value
    )
    assert "'deterministic' or 'keep' while AUTOSEED_DETERMINISTIC is on" in str(caught.value)


def test_cudnn_alone_is_active_without_a_seed() -> None:
    plan = resolve_config(collect_settings({"AUTOSEED_CUDNN": "benchmark"}))
    assert plan.active and plan.seed is None and plan.cudnn == "benchmark"


def test_off_word_in_environment_switches_off_an_env_file() -> None:
    file_settings = {SEED_VARIABLE: Setting(SEED_VARIABLE, "5", "/p/.env, line 1")}
    plan = resolve_config(collect_settings({"AUTOSEED": "off"}, file_settings))
    assert plan.seed is None and not plan.active


def test_random_draws_a_seed_in_range() -> None:
    plans = [resolve_config(collect_settings({"AUTOSEED": "random"})) for _ in range(20)]
    assert all(plan.seed_drawn and 0 <= (plan.seed or 0) < 2**32 for plan in plans)
    assert len({plan.seed for plan in plans}) > 1


def test_unknown_setting_is_warned_not_fatal() -> None:
    plan = resolve_config(collect_settings({"AUTOSEED": "1", "AUTOSEED_CUDDN": "keep"}))
    (warning,) = plan.warnings
    assert "AUTOSEED_CUDDN (from the environment)" in warning
    assert "AUTOSEED_CUDNN" in warning


def test_exported_environment_is_complete_and_turns_the_lookup_off() -> None:
    plan = resolve_config(collect_settings({"AUTOSEED": "random", "AUTOSEED_VERBOSE": "yes"}))
    assert plan.exported_environment() == {
        "AUTOSEED": str(plan.seed),
        "AUTOSEED_CUDNN": "deterministic",
        "AUTOSEED_DETERMINISTIC": "0",
        "AUTOSEED_PORTABLE": "0",
        "AUTOSEED_RANK_OFFSET": "0",
        "AUTOSEED_GENERATORS": "1",
        "AUTOSEED_ADDRESSES": "random",
        "AUTOSEED_OVERRIDE": "0",
        "AUTOSEED_RESUME": "0",
        "AUTOSEED_PYTEST": "1",
        "AUTOSEED_VERBOSE": "1",
        "AUTOSEED_HASHSEED": "reexec",
        "AUTOSEED_ENV_FILE": "none",
    }


def test_hash_seed_restart_is_the_default_and_keep_opts_out() -> None:
    assert resolve_config(collect_settings({"AUTOSEED": "5"})).reexec is True
    keep = {"AUTOSEED": "5", "AUTOSEED_HASHSEED": "keep"}
    assert resolve_config(collect_settings(keep)).reexec is False


def test_a_drawn_seed_is_reused_only_for_the_same_setting() -> None:
    settings = collect_settings({"AUTOSEED": "random"})
    parent = resolve_config(settings)
    assert parent.seed_drawn and not parent.seed_inherited
    inherited = parent.drawn_seed_environment()
    assert inherited == {"_AUTOSEED_DRAWN": f"{parent.seed} the environment"}
    child = resolve_config(settings, inherited)
    assert (child.seed, child.seed_drawn, child.seed_inherited) == (parent.seed, True, True)
    elsewhere = {"_AUTOSEED_DRAWN": f"{parent.seed} /other/.env, line 1"}
    assert not resolve_config(settings, elsewhere).seed_inherited
    for garbage in ("", "x the environment", "99999999999 the environment", "5"):
        assert not resolve_config(settings, {"_AUTOSEED_DRAWN": garbage}).seed_inherited
    fixed = resolve_config(collect_settings({"AUTOSEED": "5"}), inherited)
    assert (fixed.seed, fixed.seed_inherited, fixed.drawn_seed_environment()) == (5, False, {})


@pytest.mark.parametrize(
    ("raw", "reexec"),
    [
        ("reexec", True),
        (" REEXEC ", True),
        ("1", True),
        ("yes", True),
        ("", True),
        ("keep", False),
        ("KEEP", False),
        ("0", False),
        ("off", False),
        ("no", False),
        ("false", False),
    ],
)
def test_hash_seed_modes(raw: str, reexec: bool) -> None:
    assert parse_hash_seed_mode(env_setting("AUTOSEED_HASHSEED", raw)) is reexec


@pytest.mark.parametrize("raw", ["2", "restart", "exec", "kept"])
def test_hash_seed_mode_rejects(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"AUTOSEED_HASHSEED=.*expected 'reexec'"):
        parse_hash_seed_mode(env_setting("AUTOSEED_HASHSEED", raw))


# A value of each setting of the plan other than its default.
NOT_DEFAULT = {
    "AUTOSEED": "5", "AUTOSEED_CUDNN": "benchmark", "AUTOSEED_DETERMINISTIC": "1",
    "AUTOSEED_RANK_OFFSET": "1", "AUTOSEED_GENERATORS": "0", "AUTOSEED_NUMPY_GENERATORS": "0",
    "AUTOSEED_ADDRESSES": "fixed", "AUTOSEED_OVERRIDE": "1", "AUTOSEED_RESUME": "1",
    "AUTOSEED_PYTEST": "0", "AUTOSEED_VERBOSE": "1", "AUTOSEED_HASHSEED": "keep",
    "AUTOSEED_PORTABLE": "1", "AUTOSEED_MANIFEST": "run.json",
}  # fmt: skip


def behaviour(plan: SeedPlan) -> tuple[object, ...]:
    return (
        plan.seed, plan.cudnn, plan.deterministic, plan.rank, plan.generators,
        plan.fixed_addresses, plan.override, plan.resume, plan.per_test, plan.verbose,
        plan.reexec, plan.portable, plan.manifest,
    )  # fmt: skip


def test_every_setting_of_the_plan_has_a_value_other_than_its_default() -> None:
    assert set(NOT_DEFAULT) == set(KNOWN_VARIABLES) - {"AUTOSEED_ENV_FILE"}
    seeded = {"AUTOSEED": "7", "RANK": "3"}
    for variable, value in NOT_DEFAULT.items():
        plan = resolve_config(collect_settings({**seeded, variable: value}), seeded)
        assert behaviour(plan) != behaviour(resolve_config(collect_settings(seeded))), variable


@pytest.mark.parametrize("variable", sorted(NOT_DEFAULT))
@pytest.mark.parametrize("empty", ["", "  ", "\t"])
def test_an_empty_value_means_the_default_and_still_hides_the_env_file(
    variable: str, empty: str
) -> None:
    """One rule for every setting; an empty environment variable switches a .env's value off."""
    environ = {"AUTOSEED": "7", "RANK": "3"} if variable != "AUTOSEED" else {"RANK": "3"}
    default = behaviour(resolve_config(collect_settings(environ), environ))
    given = {**environ, variable: empty}
    assert behaviour(resolve_config(collect_settings(given), given)) == default
    from_file = {variable: Setting(variable, NOT_DEFAULT[variable], "/p/.env, line 1")}
    hidden = resolve_config(collect_settings(given, from_file), given)
    assert behaviour(hidden) == default
    assert hidden.source_of(variable) == ENVIRONMENT
    assert locate_env_file({"AUTOSEED_ENV_FILE": empty}) == locate_env_file({})


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"AUTOSEED_RESUME": "1"}, "AUTOSEED_RESUME='1' (from the environment) needs a seed"),
        ({"AUTOSEED_OVERRIDE": "yes", "AUTOSEED_RESUME": "1", "AUTOSEED": ""},
         "AUTOSEED_OVERRIDE='yes' (from the environment) and AUTOSEED_RESUME='1' (from the "
         "environment) need a seed and do nothing while AUTOSEED is empty (from the "
         "environment)"),
        ({"AUTOSEED_RANK_OFFSET": "1"}, "AUTOSEED_RANK_OFFSET='1' (from the environment)"),
        ({"AUTOSEED_ADDRESSES": "fixed"}, "AUTOSEED_ADDRESSES='fixed' (from the environment)"),
        ({"AUTOSEED_RESUME": "1", "AUTOSEED": "off"}, None),  # off on purpose
        ({"AUTOSEED_RESUME": "1", "AUTOSEED": "3"}, None),
        ({"AUTOSEED_RESUME": "0", "AUTOSEED_CUDNN": "keep"}, None),
    ],
)  # fmt: skip
def test_a_switch_that_needs_a_seed_says_so_without_one(
    environ: dict[str, str], said: str | None
) -> None:
    warnings = resolve_config(collect_settings(environ), environ).warnings
    if said is None:
        assert warnings == ()
    else:
        (warning,) = warnings
        assert warning.startswith(said), warning
        assert warning.endswith("set AUTOSEED too (an integer, or 'random')")
