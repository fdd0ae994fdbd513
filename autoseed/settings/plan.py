"""Configuration: turn ``AUTOSEED*`` settings into a :class:`SeedPlan`.

Pure: no I/O and no printing, so every spelling can be unit-tested. Each kind of value (seed,
boolean, cudnn mode) has one parser; words are casefolded and compared with explicit accepted
sets, so that ``"false"`` can never switch something *on* (wrapt's ``WRAPT_DISABLE_EXTENSIONS``
trap).
"""

import os

# The "X as X" imports are re-exported: the configuration is where the rest of the package
# looks the settings up.
from autoseed.names import ADDRESSES_VARIABLE as ADDRESSES_VARIABLE
from autoseed.names import (
    DRAWN_SEED_VARIABLE,
    ENV_FILE_VARIABLE,
    looks_like_setting,
    one_slip_apart,
    seed_number,
)
from autoseed.names import HASH_SEED_MODE_VARIABLE as HASH_SEED_MODE_VARIABLE
from autoseed.names import MAX_SEED as MAX_SEED
from autoseed.names import RANK_OFFSET_VARIABLE as RANK_OFFSET_VARIABLE
from autoseed.names import REEXEC_WORD as REEXEC_WORD

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Literal, TypeAlias

    CudnnMode: "TypeAlias" = Literal["deterministic", "benchmark", "keep"]
    DeterministicMode: "TypeAlias" = Literal["off", "on", "warn"]

SEED_VARIABLE = "AUTOSEED"
CUDNN_VARIABLE = "AUTOSEED_CUDNN"
VERBOSE_VARIABLE = "AUTOSEED_VERBOSE"
DETERMINISTIC_VARIABLE = "AUTOSEED_DETERMINISTIC"
GENERATORS_VARIABLE = "AUTOSEED_GENERATORS"
# The name of 0.2, when only default_rng() was covered and only on request: still read, as
# another name for AUTOSEED_GENERATORS, which wins where both are set.
NUMPY_GENERATORS_VARIABLE = "AUTOSEED_NUMPY_GENERATORS"
PYTEST_VARIABLE = "AUTOSEED_PYTEST"
OVERRIDE_VARIABLE = "AUTOSEED_OVERRIDE"
RESUME_VARIABLE = "AUTOSEED_RESUME"
PORTABLE_VARIABLE = "AUTOSEED_PORTABLE"
MANIFEST_VARIABLE = "AUTOSEED_MANIFEST"
KNOWN_VARIABLES = (
    SEED_VARIABLE,
    CUDNN_VARIABLE,
    DETERMINISTIC_VARIABLE,
    PORTABLE_VARIABLE,
    RANK_OFFSET_VARIABLE,
    GENERATORS_VARIABLE,
    NUMPY_GENERATORS_VARIABLE,
    ADDRESSES_VARIABLE,
    OVERRIDE_VARIABLE,
    RESUME_VARIABLE,
    MANIFEST_VARIABLE,
    PYTEST_VARIABLE,
    VERBOSE_VARIABLE,
    HASH_SEED_MODE_VARIABLE,
    ENV_FILE_VARIABLE,
)
# Where the global rank of a distributed process is found, first match wins.
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
# Where the rank came from for a process that learnt it by joining a process group.
JOINED_GROUP = "init_process_group"

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
SEED_OFF_WORDS = ("", "off", "none", "false", "no")
RANDOM_SEED_WORD = "random"
CUDNN_MODES: "tuple[CudnnMode, ...]" = ("deterministic", "benchmark", "keep")

ENVIRONMENT = "the environment"
DEFAULT = "default"

SEED_ACCEPTS = (
    f"an integer 0..{MAX_SEED}, {RANDOM_SEED_WORD!r}, "
    f"or {', '.join(map(repr, SEED_OFF_WORDS))} to turn autoseed off"
)
FLAG_ACCEPTS = f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)} (empty means the default)"
WARN_WORD = "warn"
DETERMINISTIC_ACCEPTS = f"{'/'.join(TRUE_WORDS)}, {WARN_WORD!r} or {'/'.join(FALSE_WORDS)}"
KEEP_WORD = "keep"
HASH_SEED_MODE_ACCEPTS = (
    f"{REEXEC_WORD!r} or {'/'.join(TRUE_WORDS)} (restart once with PYTHONHASHSEED set), "
    f"{KEEP_WORD!r} or {'/'.join(FALSE_WORDS)} (never restart), or empty (the default: restart)"
)
FIXED_WORD = "fixed"
ADDRESS_MODES = (FIXED_WORD, RANDOM_SEED_WORD)
ADDRESSES_ACCEPTS = (
    f"{FIXED_WORD!r} (address randomisation off for the seeded process and its children) "
    f"or {RANDOM_SEED_WORD!r} (the default)"
)
# AUTOSEED_PORTABLE=1 (or true): one thread, the only count every machine has; a count above a
# machine's CPUs would not hold there (OpenBLAS uses at most the CPUs it may run on).
PORTABLE_DEFAULT_THREADS = 1
MAX_PORTABLE_THREADS = 1024
PORTABLE_ACCEPTS = (
    f"{'/'.join(TRUE_WORDS)} (pinned, {PORTABLE_DEFAULT_THREADS} thread), a thread count "
    f"1..{MAX_PORTABLE_THREADS}, or {'/'.join(FALSE_WORDS)} (off; empty means off)"
)
MANIFEST_ACCEPTS = (
    f"a path to write the run manifest to, or {', '.join(map(repr, SEED_OFF_WORDS))} for none"
)
CUDNN_ACCEPTS = (
    f"{', '.join(map(repr, CUDNN_MODES))}, {'/'.join(TRUE_WORDS)} (deterministic) "
    f"or {'/'.join(FALSE_WORDS)} (keep)"
)


class ConfigError(ValueError):
    """An ``AUTOSEED*`` setting holds a value that autoseed does not accept.

    Deliberately not an ``ImportError``: ``try: import numpy / except ImportError`` must not
    turn a refused import into a silently unseeded run.
    """


# Tracebacks name it as users import it.
ConfigError.__module__ = "autoseed"


def shorten(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to about ``limit`` characters, saying how long it really was: a
    value is echoed so that the user recognises it, never to flood stderr."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


class Setting:
    """One raw ``AUTOSEED*`` value and where it came from (``the environment`` or a file line)."""

    __slots__ = ("variable", "raw", "source")

    def __init__(self, variable: str, raw: str, source: str) -> None:
        self.variable = variable
        self.raw = raw
        self.source = source

    def invalid(self, accepts: str) -> ConfigError:
        # `$SEED` and `${SEED:?}` work in a shell or docker compose, not in python-dotenv.
        expands = (
            "; a .env expands only ${VAR} and ${VAR:-default}"
            if "$" in self.raw and self.source != ENVIRONMENT
            else ""
        )
        return ConfigError(
            f"{self.variable}={shorten(self.raw)} (from {self.source}) is not valid; "
            f"expected {accepts}{expands}"
        )

    def __repr__(self) -> str:
        return f"Setting({self.variable!r}, {self.raw!r}, {self.source!r})"


class SeedPlan:
    """What autoseed will do: the seed, the cudnn mode, and where each value came from."""

    __slots__ = (
        "seed",
        "cudnn",
        "deterministic",
        "portable",
        "rank",
        "generators",
        "fixed_addresses",
        "override",
        "resume",
        "manifest",
        "per_test",
        "verbose",
        "reexec",
        "seed_drawn",
        "seed_inherited",
        "settings",
        "warnings",
    )

    def __init__(
        self,
        seed: int | None,
        *,
        cudnn: "CudnnMode" = "keep",
        deterministic: "DeterministicMode" = "off",
        portable: "int | None" = None,
        rank: "tuple[int, str] | None" = None,
        generators: bool = True,
        fixed_addresses: bool = False,
        override: bool = False,
        resume: bool = False,
        manifest: str | None = None,
        per_test: bool = True,
        verbose: bool = False,
        reexec: bool = True,
        seed_drawn: bool = False,
        seed_inherited: bool = False,
        settings: "Mapping[str, Setting] | None" = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.seed = seed
        self.cudnn = cudnn
        self.deterministic = deterministic
        # The thread count of AUTOSEED_PORTABLE, whose pins make the bits machine-independent.
        self.portable = portable
        self.rank = rank  # (global rank, variable it came from) when AUTOSEED_RANK_OFFSET is on
        # Requests for fresh entropy get seeds derived from this one (AUTOSEED_GENERATORS).
        self.generators = generators
        # Restart with address randomisation off, for id() order (AUTOSEED_ADDRESSES=fixed).
        self.fixed_addresses = fixed_addresses
        # The script's explicit seeds follow AUTOSEED (AUTOSEED_OVERRIDE).
        self.override = override
        # RNG states saved with each torch.save, restored at a resumed torch.load.
        self.resume = resume
        # Where each process of the job writes what it was, when it ends (AUTOSEED_MANIFEST).
        self.manifest = manifest
        self.per_test = per_test  # the pytest plugin reseeds each test (AUTOSEED_PYTEST)
        self.verbose = verbose
        self.reexec = reexec  # restart once so that this interpreter's own hash() is fixed
        self.seed_drawn = seed_drawn
        # Drawn for AUTOSEED=random by a parent (or by this process before its restart).
        self.seed_inherited = seed_inherited
        self.settings = dict(settings or {})
        self.warnings = warnings

    @property
    def active(self) -> bool:
        """Whether there is anything to do at all."""
        return (
            self.seed is not None
            or self.cudnn != "keep"
            or self.deterministic != "off"
            or self.portable is not None
        )

    @property
    def effective_seed(self) -> int | None:
        """The seed this process uses: the base seed plus the global rank when asked for.

        Children inherit the *base* seed (``exported_environment``), or every generation of
        launcher would add its rank again.
        """
        if self.seed is None or self.rank is None:
            return self.seed
        return (self.seed + self.rank[0]) % (MAX_SEED + 1)

    @property
    def override_seed(self) -> int | None:
        """The seed that the script's explicit seeds are derived from, when overridden: the
        base seed (an offset the script adds itself, ``42 + rank``, is in its values)."""
        return self.seed if self.override else None

    def source_of(self, variable: str) -> str:
        setting = self.settings.get(variable)
        return setting.source if setting else DEFAULT

    def exported_environment(self) -> dict[str, str]:
        """The resolved settings, for children to inherit whatever their working directory.

        The ``.env`` lookup is switched off for them: everything it gave is already here.
        """
        return {
            SEED_VARIABLE: "off" if self.seed is None else str(self.seed),
            CUDNN_VARIABLE: self.cudnn,
            DETERMINISTIC_VARIABLE: {"off": "0", "on": "1", "warn": WARN_WORD}[self.deterministic],
            PORTABLE_VARIABLE: "0" if self.portable is None else str(self.portable),
            RANK_OFFSET_VARIABLE: "1" if self.rank is not None else "0",
            GENERATORS_VARIABLE: "1" if self.generators else "0",
            ADDRESSES_VARIABLE: FIXED_WORD if self.fixed_addresses else RANDOM_SEED_WORD,
            OVERRIDE_VARIABLE: "1" if self.override else "0",
            RESUME_VARIABLE: "1" if self.resume else "0",
            PYTEST_VARIABLE: "1" if self.per_test else "0",
            VERBOSE_VARIABLE: "1" if self.verbose else "0",
            HASH_SEED_MODE_VARIABLE: REEXEC_WORD if self.reexec else KEEP_WORD,
            ENV_FILE_VARIABLE: "none",
        }

    def as_rank(self, rank: int) -> "SeedPlan":
        """The plan of a process that joined a process group as ``rank``: the rank it adds
        under ``AUTOSEED_RANK_OFFSET`` is the group's (a spawned rank has no rank variable)."""
        if self.rank is None or self.rank[0] == rank:
            return self
        # seed_inherited: a drawn seed was said when this process started.
        return self._changed(rank=(rank, JOINED_GROUP), seed_inherited=True)

    def with_seed(self, seed: int) -> "SeedPlan":
        """The same plan with another seed, used as it is: no rank to add, nothing drawn.

        For reseeding inside a running process: a notebook's first cell, each test.
        """
        return self._changed(
            seed=seed, rank=None, seed_drawn=False, seed_inherited=False, warnings=()
        )

    def _changed(self, **changes: object) -> "SeedPlan":
        """A copy of this plan with ``changes``: every other field, present and future, kept."""
        from copy import copy

        plan = copy(self)
        for name, value in changes.items():
            setattr(plan, name, value)
        return plan

    def drawn_seed_environment(self) -> dict[str, str]:
        """What tells children (and this process after its restart) the number drawn for
        ``AUTOSEED=random``, so that they resolve the same ``random`` to the same number."""
        setting = self.settings.get(SEED_VARIABLE)
        if not self.seed_drawn or self.seed is None or setting is None:
            return {}
        return {DRAWN_SEED_VARIABLE: f"{self.seed} {setting.source}"}

    def __repr__(self) -> str:
        return f"SeedPlan(seed={self.seed!r}, cudnn={self.cudnn!r}, verbose={self.verbose!r})"


def parse_seed(setting: Setting) -> int | str | None:
    """An integer seed, ``"random"``, or ``None`` for off."""
    word = setting.raw.strip().casefold()
    if word in SEED_OFF_WORDS:
        return None
    if word == RANDOM_SEED_WORD:
        return RANDOM_SEED_WORD
    seed = seed_number(word)
    if seed is None:
        raise setting.invalid(SEED_ACCEPTS)
    return seed


def parse_flag(setting: Setting) -> bool:
    word = setting.raw.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or not word:
        return False
    raise setting.invalid(FLAG_ACCEPTS)


def parse_cudnn_mode(setting: Setting) -> "CudnnMode | None":
    """A cudnn mode, or ``None`` (empty) for the default."""
    word = setting.raw.strip().casefold()
    if not word:
        return None
    for mode in CUDNN_MODES:
        if word == mode:
            return mode
    if word in TRUE_WORDS:
        return "deterministic"
    if word in FALSE_WORDS:
        return "keep"
    raise setting.invalid(CUDNN_ACCEPTS)


def parse_deterministic_mode(setting: Setting) -> "DeterministicMode":
    word = setting.raw.strip().casefold()
    if word == WARN_WORD:
        return "warn"
    if word in TRUE_WORDS:
        return "on"
    if word in FALSE_WORDS or not word:
        return "off"
    raise setting.invalid(DETERMINISTIC_ACCEPTS)


def parse_portable(setting: Setting) -> int | None:
    """The thread count that ``AUTOSEED_PORTABLE`` pins, or ``None`` for off."""
    word = setting.raw.strip().casefold()
    if word in TRUE_WORDS:
        return PORTABLE_DEFAULT_THREADS
    if word in FALSE_WORDS or not word:
        return None
    threads = seed_number(word)
    if threads is None or not 1 <= threads <= MAX_PORTABLE_THREADS:
        raise setting.invalid(PORTABLE_ACCEPTS)
    return threads


def parse_address_mode(setting: Setting) -> bool:
    """Whether address randomisation is to be switched off (``fixed``)."""
    word = setting.raw.strip().casefold()
    if word in ADDRESS_MODES or not word:
        return word == FIXED_WORD
    raise setting.invalid(ADDRESSES_ACCEPTS)


def parse_manifest_path(setting: Setting) -> str | None:
    """The manifest's path as given (relative to the working directory), or ``None``."""
    word = setting.raw.strip()
    if word.casefold() in SEED_OFF_WORDS:
        return None
    if "\0" in word:
        raise setting.invalid(MANIFEST_ACCEPTS)
    return word


def find_rank(environ: "Mapping[str, str]") -> tuple[int, str]:
    """The global rank from the launcher's variables (torchrun, SLURM, Open MPI, PMI), else 0."""
    for variable in RANK_VARIABLES:
        raw = environ.get(variable)
        if raw is not None:
            word = raw.strip()
            if not (word.isascii() and word.isdigit() and len(word) <= 10):
                raise Setting(variable, raw, ENVIRONMENT).invalid(
                    f"a non-negative integer rank (needed by {RANK_OFFSET_VARIABLE})"
                )
            return int(word), variable
    return 0, "no rank variable (a single process)"


def parse_hash_seed_mode(setting: Setting) -> bool:
    """Whether the start-up hook restarts the interpreter once to fix its own hash seed."""
    word = setting.raw.strip().casefold()
    if word in ("", REEXEC_WORD, *TRUE_WORDS):
        return True
    if word in (KEEP_WORD, *FALSE_WORDS):
        return False
    raise setting.invalid(HASH_SEED_MODE_ACCEPTS)


def collect_settings(
    environ: "Mapping[str, str]", file_settings: "Mapping[str, Setting] | None" = None
) -> dict[str, Setting]:
    """Merge ``.env`` settings with the environment's; real environment variables win.

    Names that only look like ours (``autoseed``, ``AUTO_SEED``) are collected too, so that
    :func:`resolve_config` can name the setting they look like instead of ignoring them.
    """
    settings = dict(file_settings or {})
    for variable, raw in environ.items():
        if looks_like_setting(variable):
            settings[variable] = Setting(variable, raw, ENVIRONMENT)
    return settings


def _squeezed(name: str) -> str:
    return name.upper().replace("_", "")


def meant_variable(variable: str) -> str | None:
    """The known setting that ``variable`` is a slip of (case, underscores, one slip of the hand
    as :func:`one_slip_apart` defines it), if any."""
    for known in KNOWN_VARIABLES:
        if variable != known and one_slip_apart(_squeezed(variable), _squeezed(known)):
            return known
    return None


def describe_unknown(setting: Setting) -> str:
    """One line about a setting name autoseed does not know: what it looks like, if anything."""
    meant = meant_variable(setting.variable)
    if meant is not None:
        return (
            f"{setting.variable} (from {setting.source}) is not a setting and is ignored; "
            f"did you mean {meant}?"
        )
    return (
        f"unknown setting {setting.variable} (from {setting.source}) is ignored; "
        f"known settings: {', '.join(KNOWN_VARIABLES)}"
    )


def draw_seed() -> int:
    return int.from_bytes(os.urandom(4), "big")


def inherited_draw(environ: "Mapping[str, str]", seed_setting: Setting) -> int | None:
    """The number a parent drew for this same ``AUTOSEED=random`` setting, if it left one."""
    number, _, source = environ.get(DRAWN_SEED_VARIABLE, "").partition(" ")
    return seed_number(number) if source == seed_setting.source else None


def resolve_config(
    settings: "Mapping[str, Setting]", environ: "Mapping[str, str] | None" = None
) -> SeedPlan:
    """Build the plan from collected settings; raise :class:`ConfigError` on the first bad value.

    ``environ`` is read for the rank (only when ``AUTOSEED_RANK_OFFSET`` is on) and for a number
    a parent drew for the same ``AUTOSEED=random``.
    """
    environ = environ or {}
    # One rule for every setting: an empty (or blank) value means the setting's default. It is
    # a value all the same: in the environment it hides the .env's (collect_settings).
    every_setting = settings
    settings = {name: setting for name, setting in settings.items() if setting.raw.strip()}
    seed_setting = settings.get(SEED_VARIABLE)
    parsed = parse_seed(seed_setting) if seed_setting else None
    seed_drawn = parsed == RANDOM_SEED_WORD
    inherited = inherited_draw(environ, seed_setting) if seed_drawn and seed_setting else None
    seed_inherited = inherited is not None
    if isinstance(parsed, str):
        seed: int | None = draw_seed() if inherited is None else inherited
    else:
        seed = parsed
    cudnn_setting = settings.get(CUDNN_VARIABLE)
    cudnn = parse_cudnn_mode(cudnn_setting) if cudnn_setting else None
    deterministic_setting = settings.get(DETERMINISTIC_VARIABLE)
    deterministic = (
        parse_deterministic_mode(deterministic_setting) if deterministic_setting else "off"
    )
    if deterministic != "off" and cudnn == "benchmark" and cudnn_setting is not None:
        raise cudnn_setting.invalid(
            f"'deterministic' or 'keep' while {DETERMINISTIC_VARIABLE} is on "
            "(cudnn's benchmark mode picks kernels by timing)"
        )
    portable_setting = settings.get(PORTABLE_VARIABLE)
    offset_setting = settings.get(RANK_OFFSET_VARIABLE)
    rank = find_rank(environ) if offset_setting and parse_flag(offset_setting) else None
    generators_setting = settings.get(GENERATORS_VARIABLE) or settings.get(
        NUMPY_GENERATORS_VARIABLE
    )
    addresses_setting = settings.get(ADDRESSES_VARIABLE)
    override_setting = settings.get(OVERRIDE_VARIABLE)
    resume_setting = settings.get(RESUME_VARIABLE)
    manifest_setting = settings.get(MANIFEST_VARIABLE)
    per_test_setting = settings.get(PYTEST_VARIABLE)
    verbose_setting = settings.get(VERBOSE_VARIABLE)
    hash_seed_setting = settings.get(HASH_SEED_MODE_VARIABLE)
    warnings = tuple(
        describe_unknown(setting)
        for setting in every_setting.values()
        if setting.variable not in KNOWN_VARIABLES
    )
    plan = SeedPlan(
        seed,
        # An explicit mode wins (keep leaves the flags to torch, whose deterministic algorithms
        # already choose deterministic cudnn kernels); else seeding implies deterministic.
        cudnn=cudnn or ("deterministic" if seed is not None or deterministic != "off" else "keep"),
        deterministic=deterministic,
        portable=parse_portable(portable_setting) if portable_setting else None,
        rank=rank,
        generators=parse_flag(generators_setting) if generators_setting else True,
        fixed_addresses=parse_address_mode(addresses_setting) if addresses_setting else False,
        override=parse_flag(override_setting) if override_setting else False,
        resume=parse_flag(resume_setting) if resume_setting else False,
        manifest=parse_manifest_path(manifest_setting) if manifest_setting else None,
        per_test=parse_flag(per_test_setting) if per_test_setting else True,
        verbose=parse_flag(verbose_setting) if verbose_setting else False,
        reexec=parse_hash_seed_mode(hash_seed_setting) if hash_seed_setting else True,
        seed_drawn=seed_drawn,
        seed_inherited=seed_inherited,
        settings=every_setting,
        warnings=warnings,
    )
    idle = describe_idle_switches(plan)
    if idle is not None:
        plan.warnings = (*plan.warnings, idle)
    return plan


def describe_idle_switches(plan: SeedPlan) -> str | None:
    """One line about the switches that need a seed, asked for while no ``AUTOSEED`` is set
    (absent or empty; ``AUTOSEED=off`` says off on purpose and is left alone)."""
    seed_setting = plan.settings.get(SEED_VARIABLE)
    if plan.seed is not None or (seed_setting is not None and seed_setting.raw.strip()):
        return None
    idle = [
        plan.settings[variable]
        for variable, on in (
            (OVERRIDE_VARIABLE, plan.override),
            (RESUME_VARIABLE, plan.resume),
            (RANK_OFFSET_VARIABLE, plan.rank is not None),
            (ADDRESSES_VARIABLE, plan.fixed_addresses),
        )
        if on
    ]
    if not idle:
        return None
    asked = " and ".join(f"{s.variable}={s.raw.strip()!r} (from {s.source})" for s in idle)
    verb = "needs a seed and does" if len(idle) == 1 else "need a seed and do"
    unset = (
        f"{SEED_VARIABLE} is not set"
        if seed_setting is None
        else f"{SEED_VARIABLE} is empty (from {seed_setting.source})"
    )
    return (
        f"{asked} {verb} nothing while {unset}; set {SEED_VARIABLE} too "
        f"(an integer, or {RANDOM_SEED_WORD!r})"
    )
