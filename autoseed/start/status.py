"""``autoseed status``: what this interpreter will do, and why, as data and as text."""

from __future__ import annotations

import errno
import os
import platform
import stat
import sys
from importlib import metadata, util
from typing import Any

from autoseed.integrations.interpreters import unseeded_command
from autoseed.names import (
    ENV_FILE_VARIABLE,
    EXPORTED_HASH_SEED_VARIABLE,
    HASH_SEED_VARIABLE,
    env_file_candidates,
    hash_seed_is_fixed,
    is_autoseed_command,
    working_directory,
)
from autoseed.seeding import libraries
from autoseed.settings.env_file import read_env_file
from autoseed.settings.meanings import DEFAULT_MEANINGS, describe_meaning
from autoseed.settings.plan import (
    ADDRESSES_VARIABLE,
    DEFAULT,
    HASH_SEED_MODE_VARIABLE,
    KNOWN_VARIABLES,
    ConfigError,
    SeedPlan,
    describe_idle_switches,
    meant_variable,
)
from autoseed.settings.sources import resolve_environment
from autoseed.start import restart
from autoseed.start.install import START_FILE_NAMES, site_directories

NOT_INSTALLED = "(not installed as a distribution)"
LIBRARIES = (("random", None), ("numpy", "numpy"), ("torch", "torch"))


def _installed_start_files() -> list[str]:
    return [
        os.path.join(directory, name)
        for directory in site_directories()
        for name in START_FILE_NAMES
        if os.path.isfile(os.path.join(directory, name))
    ]


def describe_env_file(path: str, used: str | None) -> str:
    """What the lookup made of one candidate: used, absent, or skipped and why."""
    if path == used:
        env_file = read_env_file(path, False)
        if env_file.foreign_owner is not None:
            return f"ignored: owned by another user, uid {env_file.foreign_owner}"
        if env_file.error is not None:
            return f"unreadable: {env_file.error.strerror or env_file.error}"
        if env_file.wide_encoding is not None:
            return f"not read: {env_file.wide_encoding}, not UTF-8"
        return "used"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "absent" if not os.path.islink(path) else "a dangling symlink: skipped"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symlink loop: skipped"
        return f"cannot be looked at ({error.strerror}): skipped"
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO")):
        if test(mode):
            return f"{kind}, not a file: skipped"
    return "not a regular file: skipped"


def describe_lookup_off(environ: dict[str, str]) -> str:
    """Why no ``.env`` file was considered at all."""
    if environ.get(ENV_FILE_VARIABLE, "").strip():
        return f"lookup off ({ENV_FILE_VARIABLE}={environ[ENV_FILE_VARIABLE]!r})"
    if working_directory() is None:
        return "lookup skipped: the working directory no longer exists"
    return "lookup off"


def _library(name: str, distribution: str | None) -> dict[str, Any]:
    if distribution is None:
        return {"importable": True, "version": platform.python_version()}
    try:
        importable = util.find_spec(name) is not None
    except (ImportError, ValueError):
        importable = False
    try:
        version: str | None = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        version = None
    return {"importable": importable, "version": version}


def _start_up_state(module: str, attribute: str) -> Any:
    """What the start-up left in one of its modules: looked up, never imported (the start-up
    imports its modules only as far as it went; importing one here would tell nothing)."""
    return getattr(sys.modules.get(module), attribute, None)


def _hook_state(start_files: list[str]) -> str:
    if _start_up_state("autoseed.start.activation", "startup_error") is not None:
        return "ran in this process and refused numpy and torch (invalid configuration)"
    if libraries.active_plan() is not None:
        return "ran in this process and is active"
    if sys.flags.no_site:
        return "did not run in this process (python -S skips site.py and every .pth)"
    # The .pth line hands over (imports _autoseed_startup) only where something might ask.
    if start_files or _start_up_state("_autoseed_startup", "ran"):
        return "ran in this process; nothing asked for it"
    return "not installed for this interpreter (no autoseed.pth in its site directories)"


def build_status() -> dict[str, Any]:
    """Everything ``autoseed status`` shows, JSON-ready."""
    environ = libraries.environment_before_autoseed()
    considered = []
    used = None
    for candidate, explicit in env_file_candidates(environ):
        considered.append(candidate)
        if explicit or os.path.isfile(candidate):
            used = candidate
            break
    report: dict[str, Any] = {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "pid": os.getpid(),
        "autoseed_command": is_autoseed_command(),
        "autoseed_version": installed_version(),
        "start_files": (start_files := _installed_start_files()),
        "hook": _hook_state(start_files),
        "env_files_considered": considered,
        "env_file_states": {path: describe_env_file(path, used) for path in considered},
        "env_lookup": None if considered else describe_lookup_off(environ),
        "env_file_used": used,
        "settings": {},
        "problems": [],
        "unmet": [],
        "misspelt": {},
        "error": None,
        "seed": None,
        "rank": None,
        "effective_seed": None,
        "cudnn": None,
        "deterministic": None,
        "would_seed": {},
        "hash_seed": None,
        "addresses": None,
        "portable": None,
    }
    try:
        plan, notes = resolve_environment(environ)
    except ConfigError as error:
        report["error"] = str(error)
        return report
    report["problems"] = [note.text for note in notes] + list(plan.warnings)
    # The one launcher that is a console script of torch: where torch is the base
    # interpreter's and autoseed a venv's, the torchrun on PATH runs the job unseeded.
    torchrun = unseeded_command(["torchrun"], environ)
    if torchrun is not None:
        report["problems"].append(torchrun)
    report["unmet"] = [note.text for note in notes if note.unmet]
    report["misspelt"] = {
        variable: meant
        for variable in plan.settings
        if variable not in KNOWN_VARIABLES and (meant := meant_variable(variable)) is not None
    }
    report["settings"] = {
        variable: {
            "value": plan.settings[variable].raw if variable in plan.settings else None,
            "source": plan.source_of(variable),
            "default": DEFAULT_MEANINGS[variable],
            "meaning": describe_meaning(variable, plan),
        }
        for variable in KNOWN_VARIABLES
    }
    idle = describe_idle_switches(plan)
    if idle is not None:  # asked for, and nothing will come of it
        report["unmet"].append(idle)
    report["seed"] = "random" if plan.seed_drawn else plan.seed
    if plan.rank is not None:
        report["rank"] = {"rank": plan.rank[0], "from": plan.rank[1]}
    report["effective_seed"] = "random" if plan.seed_drawn else plan.effective_seed
    report["cudnn"] = plan.cudnn
    report["deterministic"] = plan.deterministic
    for library, distribution in LIBRARIES:
        details = _library(library, distribution)
        if plan.seed is None and not (library == "torch" and plan.active):
            pinned = library == "numpy" and plan.portable is not None
            details["action"] = (
                "threads and CPU features pinned (portable)" if pinned else "left alone"
            )
        else:
            detail = libraries.describe_torch_settings(plan) if library == "torch" else ""
            seed = "a seed drawn at each start" if plan.seed_drawn else plan.effective_seed
            details["action"] = libraries.describe_seeding(library, seed, detail)
        report["would_seed"][library] = details
    report["hash_seed"] = _hash_seed(plan, environ)
    if plan.seed is not None or plan.fixed_addresses or restart.addresses_fixed():
        report["addresses"] = _addresses(plan)
    if plan.portable is not None:
        report["portable"] = _portable(plan.portable, environ)
    return report


def _portable(threads: int, environ: dict[str, str]) -> dict[str, Any]:
    """The pins of ``AUTOSEED_PORTABLE`` in force, who set each, and what is not pinned here."""
    from autoseed.seeding import portable

    return {
        "threads": threads,
        "pins": {
            variable: {"value": value, "by": by}
            for variable, (value, by) in portable.pins_in_force(threads, environ).items()
        },
        "not_pinned": portable.unpinned_here(threads),
        "thread_count": int(portable.thread_count(threads, environ)),
        "disagreeing_thread_counts": portable.disagreeing_thread_counts(environ),
        "cpus": portable.available_cpus(),
    }


def _addresses(plan: SeedPlan) -> dict[str, Any]:
    """Whether object addresses (and so ``id()`` order) repeat, and the price when they do."""
    fixed = restart.addresses_fixed()
    if fixed:
        how = (
            "fixed: address randomisation (ASLR) is off for this process and its children, "
            "a security mitigation disabled for them; id() order repeats"
        )
    elif plan.fixed_addresses and plan.seed is None:
        how = f"random: {ADDRESSES_VARIABLE}=fixed applies only while AUTOSEED is on"
    elif plan.fixed_addresses and is_autoseed_command():
        how = (
            "a script started with this configuration restarts with address randomisation "
            "(ASLR) off, a security mitigation disabled for it and its children; id() order "
            "repeats"
        )
    elif plan.fixed_addresses:
        why = restart.not_restarted_because or restart.fix_addresses() or "no restart happened"
        how = f"asked fixed, but random in this process: {why}"
    else:
        how = f"random: id() order changes at every start ({ADDRESSES_VARIABLE}=fixed fixes it)"
    return {"fixed": fixed, "how": how}


def _hash_seed(plan: SeedPlan, environ: dict[str, str]) -> dict[str, Any] | None:
    """This process's ``PYTHONHASHSEED``: who set it, or why it is not fixed."""
    variable = HASH_SEED_VARIABLE
    if _start_up_state("autoseed.start", "handover") is not None:
        value = os.environ.get(variable)
        return {"value": value, "repeats": True, "how": (
            f"set by autoseed: this process restarted once at start-up with {variable}={value}, "
            "so hash() and set order repeat"
        )}  # fmt: skip
    if hash_seed_is_fixed(environ):
        value = environ[variable]
        if environ.get(EXPORTED_HASH_SEED_VARIABLE) == value:
            how = (
                "inherited from a parent process that autoseed seeded (it sets "
                f"{variable} for its children); kept, so hash() and set order repeat"
            )
        else:
            how = "set by you (or the program that started this one); kept"
        return {"value": value, "repeats": True, "how": how}
    if plan.seed is None:
        return None
    seed = "the seed drawn at that start" if plan.seed_drawn else plan.seed
    if not plan.reexec:
        why = f"{HASH_SEED_MODE_VARIABLE}={plan.settings[HASH_SEED_MODE_VARIABLE].raw!r}"
    else:
        why = restart.not_restarted_because or restart.why_not_safe() or "no restart happened"
        if why == restart.THE_COMMAND_ITSELF:
            return {"value": environ.get(variable), "repeats": True, "how": (
                "unset; a script started with this configuration restarts once with "
                f"{variable}={seed}, so hash() and set order repeat"
            )}  # fmt: skip
    return {"value": environ.get(variable), "repeats": False, "how": (
        f"not fixed in this process ({why}): hash() and set order differ from run to run; "
        f"children get {variable}={seed}"
    )}  # fmt: skip


def installed_version() -> str | None:
    try:
        return metadata.version("autoseed")
    except metadata.PackageNotFoundError:
        return None


def format_status(report: dict[str, Any]) -> str:
    """The human-readable form of :func:`build_status`."""
    version = report["autoseed_version"] or NOT_INSTALLED
    lines = [
        f"autoseed {version} for {report['python']} (Python {report['python_version']})",
        (
            f"describes: this autoseed command itself (pid {report['pid']}), so what a script "
            "started with the same environment and working directory gets; a running "
            "notebook kernel describes itself with %autoseed"
            if report["autoseed_command"]
            else f"describes: this process (pid {report['pid']})"
        ),
        "start-up files: " + (", ".join(report["start_files"]) or "none installed"),
        f"start-up hook: {report['hook']}",
    ]
    states = report["env_file_states"].items()
    lines.append(
        ".env files: "
        + (", ".join(f"{path} ({state})" for path, state in states) or report["env_lookup"])
    )
    if report["error"]:
        lines.append(f"configuration: INVALID: {report['error']}")
        return "\n".join(lines)
    lines.append("settings:")
    for variable, setting in report["settings"].items():
        if setting["source"] == DEFAULT:
            lines.append(f"  {variable}: {setting['default']} (default)")
        else:
            given = f"  {variable}={setting['value']!r} (from {setting['source']})"
            meaning = setting.get("meaning")
            empty = " (empty: the default)" if not setting["value"].strip() else ""
            lines.append(f"{given}: {meaning}{empty}" if meaning else given)
    if report["rank"] is not None:
        rank = report["rank"]
        lines.append(
            f"rank: {rank['rank']} (from {rank['from']}); seed {report['seed']} + rank = "
            f"{report['effective_seed']} for the generators; the hash seed and children get the "
            f"base seed {report['seed']}"
        )
    lines.append("at first import:")
    for library, details in report["would_seed"].items():
        if not details["importable"]:
            lines.append(f"  {library}: not installed")
            continue
        version = details["version"] or "version unknown"
        lines.append(f"  {library} {version}: {details['action']}")
    hash_seed = report["hash_seed"]
    if hash_seed is not None:
        value = hash_seed["value"]
        shown = HASH_SEED_VARIABLE + (f"={value}" if value is not None else "")
        lines.append(f"{shown}: {hash_seed['how']}")
    if report["addresses"] is not None:
        lines.append(f"addresses: {report['addresses']['how']}")
    if report["portable"] is not None:
        lines.extend(_format_portable(report["portable"]))
    lines.extend(f"note: {problem}" for problem in report["problems"])
    return "\n".join(lines)


def _format_portable(portable: dict[str, Any]) -> list[str]:
    count = portable["thread_count"]
    yours = "" if count == portable["threads"] else ", the count you set"
    lines = [f"portable: {count} thread{'s' if count > 1 else ''}{yours}, pins in force:"]
    for name, pin in portable["pins"].items():
        # A variable as it is set; a setting (TF32) by its name.
        shown = f"{name}={pin['value']!r}" if name.isidentifier() else f"{name}: {pin['value']}"
        by = "set by you: it wins over the pin" if pin["by"] == "user" else "pinned by autoseed"
        lines.append(f"  {shown} ({by})")
    for variable, why in portable["not_pinned"].items():
        lines.append(f"  {variable}: not pinned ({why})")
    if portable["disagreeing_thread_counts"] is not None:
        lines.append(f"  {portable['disagreeing_thread_counts']}")
    cpus = portable["cpus"]
    if cpus is not None and count > cpus:
        lines.append(
            f"  only {cpus} CPU{'s' if cpus > 1 else ''} here for {count} threads: OpenBLAS "
            f"uses at most {cpus}, so numpy's results may differ from a machine with {count}"
        )
    return lines


def describe_status() -> str:
    """``autoseed status``'s text for this interpreter (what ``%autoseed`` prints)."""
    return format_status(build_status())
