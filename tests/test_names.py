"""Which names are settings, slips of one, or something else: pure, every spelling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoseed.names import _NEIGHBOURS as NEIGHBOURS
from autoseed.names import env_file_might_ask, looks_like_setting, might_be_setting, one_slip_apart
from autoseed.settings.plan import KNOWN_VARIABLES, meant_variable


@pytest.mark.parametrize(
    "name",
    [
        "AUTOSEED", "AUTOSEED_CUDNN", "AUTOSEED_ANYTHING", "autoseed", "AutoSeed", "AUTO_SEED",
        "A_U_T_O_S_E_E_D", "AUTOSED", "AUTOSEDE", "AUOTSEED", "AUTOSEEED", "AAUTOSEED",
        "UTOSEED", "AUTOSEE", "AUTPSEED", "AUTOSRED", "AUTOSEEF", "AUTOSED_CUDNN",
    ],
)  # fmt: skip
def test_settings_and_slips_of_the_hand(name: str) -> None:
    assert looks_like_setting(name)


@pytest.mark.parametrize(
    "name",
    [
        "AUTOSEND", "AUTOSPEED", "AUTOFEED", "AUTOMATED",
        "XAUTHORITY", "AUTHOR", "SEED", "RANDOM_SEED", "NEED_SEED", "_AUTOSEED_HANDOVER",
        "_AUTOSEED_TOLD", "PATH", "",
    ],
)  # fmt: skip
def test_other_names(name: str) -> None:
    assert not looks_like_setting(name)


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("autoseed", "AUTOSEED"), ("AUTO_SEED", "AUTOSEED"), ("AUTOSED", "AUTOSEED"),
        ("AUTOSEED_CUDDN", "AUTOSEED_CUDNN"), ("AUTOSEED_VERBSE", "AUTOSEED_VERBOSE"),
        ("autoseed_rank_offset", "AUTOSEED_RANK_OFFSET"), ("AUTOSEED_HASHSED", "AUTOSEED_HASHSEED"),
        ("AUTOSEED_FOO", None), ("AUTOSEED", None),
    ],
)  # fmt: skip
def test_the_setting_a_slip_means(name: str, meant: str | None) -> None:
    assert meant_variable(name) == meant


def test_every_single_slip_of_every_setting_is_caught() -> None:
    for known in KNOWN_VARIABLES:
        squeezed = known.replace("_", "")
        for i in range(len(squeezed)):
            left_out = squeezed[:i] + squeezed[i + 1 :]
            doubled = squeezed[: i + 1] + squeezed[i:]
            assert one_slip_apart(left_out, squeezed) and one_slip_apart(doubled, squeezed)
            if i + 1 < len(squeezed):
                swapped = squeezed[:i] + squeezed[i + 1] + squeezed[i] + squeezed[i + 2 :]
                assert one_slip_apart(swapped, squeezed)
                assert meant_variable(swapped) in (known, None) or swapped == squeezed


@given(st.text(alphabet="AUTOSEDautosed_XNPR", max_size=14) | st.text(max_size=12))
def test_the_start_up_gate_never_misses_a_name_that_looks_like_a_setting(name: str) -> None:
    """The gate's cheap look decides whether autoseed is looked at at all (autoseed.pth spells
    the same test out; tests/test_install.py holds the two equal through real processes)."""
    if looks_like_setting(name):
        assert might_be_setting(name)


def test_every_single_slip_of_autoseed_passes_the_gate() -> None:
    for slip in single_slips("AUTOSEED"):
        assert looks_like_setting(slip) and might_be_setting(slip), slip
        assert might_be_setting(f"{slip}_CUDNN") and might_be_setting(slip.lower())


def test_common_names_with_auto_pass_the_gate_by() -> None:
    for name in (
        "RUSTUP_AUTO_INSTALL", "XAUTHORITY", "PYTEST_XDIST_AUTO_NUM_WORKERS", "SEED",
        "AUTH_TOKEN", "AUTH0_DOMAIN", "AUTHOR", "NEXTAUTH_SECRET", "RANDOM_SEED",
    ):  # fmt: skip
        assert not might_be_setting(name)


@pytest.mark.parametrize(
    ("content", "asks"),
    [
        (b"", False),
        (b"DB_URL=postgres://u:p@db/app\nAPI_KEY=sk-1\nAUTH_TOKEN=t\nRANDOM_SEED=3\n", False),
        (b"# AUTOSEED=1\nNOTE=set AUTOSEED yourself\nOTHER='AUTOSEED'\n", False),
        (b"CITY=K\xc3\xb6ln\n", False),
        (b"AUTOSEED=1\n", True),
        (b"  export 'AUTOSEED_CUDNN'=keep\n", True),
        (b"X=1\rauto_seed=1", True),
        (b"\xef\xbb\xbfAUTOSEEF=1\n", True),
        ("AUTOSEED=1\n".encode("utf-16-le"), True),  # the package says it is not UTF-8
        (b"DB=1\n" + b"#\n" * (1 << 20), True),  # the package looks beyond its first MiB
    ],
)
def test_the_gate_looks_into_a_env_file(tmp_path: Path, content: bytes, asks: bool) -> None:
    """What autoseed.pth does with a .env it finds (tests/test_install.py holds the line equal
    to this): an ordinary project's .env is stepped over without importing anything."""
    (tmp_path / ".env").write_bytes(content)
    assert env_file_might_ask(str(tmp_path / ".env")) is asks
    (tmp_path / ".env").chmod(0)
    if not os.access(tmp_path / ".env", os.R_OK):  # (root reads it all the same)
        assert env_file_might_ask(str(tmp_path / ".env")), "unreadable: the package says so"


def single_slips(word: str) -> set[str]:
    slips = set()
    for i in range(len(word)):
        slips.add(word[:i] + word[i + 1 :])  # left out
        slips.add(word[: i + 1] + word[i:])  # doubled
        if i + 1 < len(word):
            slips.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swapped
            slips.add(word[: i + 1] + word[i] + word[i + 2 :])  # the next one typed as this
        for neighbour in NEIGHBOURS.get(word[i], ""):
            slips.add(word[:i] + neighbour + word[i + 1 :])
    return slips - {word}
