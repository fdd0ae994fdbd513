"""What each setting does in a plan, in words: what ``autoseed status`` shows beside a value,
so that ``AUTOSEED_RESUME='1'`` reads as what it switches on, and beside a setting not given,
its default. Pure."""

from __future__ import annotations

from autoseed.names import ENV_FILE_VARIABLE
from autoseed.settings.plan import (
    ADDRESSES_VARIABLE,
    CUDNN_VARIABLE,
    DETERMINISTIC_VARIABLE,
    GENERATORS_VARIABLE,
    HASH_SEED_MODE_VARIABLE,
    MANIFEST_VARIABLE,
    NUMPY_GENERATORS_VARIABLE,
    OVERRIDE_VARIABLE,
    PORTABLE_VARIABLE,
    PYTEST_VARIABLE,
    RANK_OFFSET_VARIABLE,
    RESUME_VARIABLE,
    SEED_VARIABLE,
    VERBOSE_VARIABLE,
    SeedPlan,
)

# What each setting does where it is not given, beside its default value.
DEFAULT_MEANINGS = {
    SEED_VARIABLE: "off",
    CUDNN_VARIABLE: "deterministic when AUTOSEED or AUTOSEED_DETERMINISTIC is on, else keep",
    DETERMINISTIC_VARIABLE: "0 (torch's deterministic algorithms left off)",
    PORTABLE_VARIABLE: "0 (threads and CPU features left to each machine: another machine may "
    "give other bits)",
    RANK_OFFSET_VARIABLE: "0 (every rank gets the same seed)",
    GENERATORS_VARIABLE: "1 (generators made without a seed get seeds derived from AUTOSEED)",
    NUMPY_GENERATORS_VARIABLE: f"another name for {GENERATORS_VARIABLE}, which wins",
    OVERRIDE_VARIABLE: "0 (a seed the script sets itself wins)",
    RESUME_VARIABLE: "0 (torch.save and torch.load left as they are)",
    MANIFEST_VARIABLE: "none (no run manifest is written)",
    ADDRESSES_VARIABLE: "random (object addresses, and so id() order, change at every start)",
    PYTEST_VARIABLE: "1 (under pytest, each test is reseeded from the seed and its id)",
    VERBOSE_VARIABLE: "off",
    HASH_SEED_MODE_VARIABLE: "reexec (restart once so that hash() is fixed too)",
    ENV_FILE_VARIABLE: "look up the nearest .env",
}

_CUDNN_MEANINGS = {
    "deterministic": "cudnn deterministic, benchmark off",
    "benchmark": "cudnn benchmark on, deterministic off",
    "keep": "cudnn's flags left to torch",
}
_DETERMINISTIC_MEANINGS = {
    "on": "torch.use_deterministic_algorithms(True) at torch's import",
    "warn": "torch.use_deterministic_algorithms(True, warn_only=True) at torch's import",
    "off": "torch's deterministic algorithms left off",
}
_NEED_A_SEED = (OVERRIDE_VARIABLE, RESUME_VARIABLE, RANK_OFFSET_VARIABLE, ADDRESSES_VARIABLE)


def describe_meaning(variable: str, plan: SeedPlan) -> str | None:
    """What ``variable`` does in ``plan``, in words (``None``: nothing to add to its value)."""
    generators = (
        "generators made without a seed get seeds derived from the seed",
        "generators made without a seed are left to the OS",
    )
    switches = {
        GENERATORS_VARIABLE: (plan.generators, *generators),
        NUMPY_GENERATORS_VARIABLE: (plan.generators, *generators),
        PYTEST_VARIABLE: (
            plan.per_test,
            "each test is reseeded from the seed and its id",
            "pytest left alone",
        ),
        VERBOSE_VARIABLE: (plan.verbose, "a line per library seeded and per seeding call", "quiet"),
        OVERRIDE_VARIABLE: (
            plan.override,
            "the script's explicit seeds follow the seed",
            "a seed the script sets itself wins",
        ),
        RESUME_VARIABLE: (
            plan.resume,
            "random states saved beside each torch.save checkpoint, restored at a resume",
            "checkpoints left as they are",
        ),
        RANK_OFFSET_VARIABLE: (
            plan.rank is not None,
            "the seed plus the global rank",
            "every rank the same seed",
        ),
        ADDRESSES_VARIABLE: (
            plan.fixed_addresses,
            "address randomisation (ASLR) off for the seeded process and its children",
            "addresses random at every start",
        ),
    }
    words = {
        SEED_VARIABLE: "a seed drawn at each start" if plan.seed_drawn else (
            "off: nothing seeded" if plan.seed is None else f"seed {plan.seed}"
        ),
        CUDNN_VARIABLE: _CUDNN_MEANINGS[plan.cudnn],
        DETERMINISTIC_VARIABLE: _DETERMINISTIC_MEANINGS[plan.deterministic],
        HASH_SEED_MODE_VARIABLE: "reexec: restart once so that hash() is fixed too"
        if plan.reexec else "keep: never restart (children still get PYTHONHASHSEED)",
        PORTABLE_VARIABLE: "off: threads and CPU features left to each machine"
        if plan.portable is None else
        f"on: {plan.portable} thread{'s' if plan.portable > 1 else ''} and CPU features pinned",
        MANIFEST_VARIABLE: "none: no run manifest written" if plan.manifest is None else
        f"a run manifest written to {plan.manifest}",
    }  # fmt: skip
    if variable in words:
        return words[variable]
    if variable not in switches:
        return None
    on, what, otherwise = switches[variable]
    if not on:
        return f"off: {otherwise}"
    idle = variable in _NEED_A_SEED and plan.seed is None
    return f"on: {what}" + (f"; but nothing while {SEED_VARIABLE} is off" if idle else "")
