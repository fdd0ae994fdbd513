"""What a process asks for: its environment plus the ``.env`` that applies, as settings, and
what to tell the user about them."""

import sys

from autoseed.names import ENV_FILE_READ_LIMIT, ENV_FILE_VARIABLE, locate_env_file
from autoseed.settings.env_file import EnvFile, read_nearest_env_file
from autoseed.settings.plan import (
    ENVIRONMENT,
    MANIFEST_VARIABLE,
    SEED_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    collect_settings,
    resolve_config,
    shorten,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


# Settings a .env may not hold: each names a file autoseed reads or writes, which only you
# may name (a repository's .env must not make autoseed read or overwrite a file elsewhere).
ENVIRONMENT_ONLY = {
    ENV_FILE_VARIABLE: "a .env cannot point to another .env",
    MANIFEST_VARIABLE: "a .env cannot name a file for autoseed to write",
}


class Note:
    """One line to tell: ``unmet`` when something asked for autoseed and will not get it (the
    run goes on unseeded, and ``autoseed status`` exits 1)."""

    __slots__ = ("text", "unmet")

    def __init__(self, text: str, unmet: bool = False) -> None:
        self.text, self.unmet = text, unmet

    def __repr__(self) -> str:
        return f"Note({self.text!r}, unmet={self.unmet!r})"


def read_file_settings(
    env_file: "EnvFile | None", environ: "Mapping[str, str]"
) -> "tuple[dict[str, Setting], list[Note]]":
    """The ``.env`` file's ``AUTOSEED*`` settings, and what to tell about the file; ``environ``
    is what a ``${VAR}`` in it is expanded from, after the file's earlier lines.

    Raises :class:`ConfigError` when ``AUTOSEED_ENV_FILE`` names a file that cannot be read or
    decoded, or when a line that sets an ``AUTOSEED*`` key cannot be parsed.
    """
    if env_file is None:
        return {}, []
    if env_file.hidden is not None:
        return {}, [Note(describe_hidden(env_file, env_file.hidden), unmet=True)]
    if env_file.error is not None:
        reason = env_file.error.strerror or str(env_file.error)
        if env_file.explicit:
            raise ConfigError(
                f"{ENV_FILE_VARIABLE}={env_file.path!r} (from {ENVIRONMENT}) cannot be read "
                f"({reason}); expected a readable file, or 'none' to skip the .env lookup"
            )
        return {}, [Note(
            f"could not read {env_file.path} ({reason}), so an AUTOSEED setting in it would be "
            f"ignored; make it readable, or set {ENV_FILE_VARIABLE}=none to skip it",
            unmet=True,
        )]  # fmt: skip
    if env_file.wide_encoding is not None:
        return {}, _wide_encoding_notes(env_file)
    if env_file.foreign_owner is not None:
        if not env_file.mentions_autoseed:
            return {}, []
        return {}, [Note(describe_foreign_owner(env_file), unmet=True)]
    settings, notes = settings_from_env_file(env_file, environ)
    if env_file.truncated and settings:
        notes.append(Note(
            f"{env_file.path} is larger than {ENV_FILE_READ_LIMIT >> 20} MiB; only its first "
            "MiB was read, so a setting after that is ignored"
        ))  # fmt: skip
    return settings, notes


def _wide_encoding_notes(env_file: EnvFile) -> "list[Note]":
    if not env_file.mentions_autoseed:
        return []
    encoding = env_file.wide_encoding
    text = (
        f"{env_file.path} is {encoding}, and .env files are read as UTF-8 (as python-dotenv "
        f"and shells read them), so its AUTOSEED settings are ignored; save it as UTF-8: "
        f"iconv -f {encoding} -t UTF-8 {env_file.path} > {env_file.path}.utf8 && "
        f"mv {env_file.path}.utf8 {env_file.path}"
    )
    if env_file.explicit:
        raise ConfigError(f"{ENV_FILE_VARIABLE}={env_file.path!r}: {text}")
    return [Note(text, unmet=True)]


def describe_foreign_owner(env_file: EnvFile) -> str:
    return (
        f"{env_file.path} sets AUTOSEED but is ignored: it belongs to another user (uid "
        f"{env_file.foreign_owner}), and only your own or root's .env files configure your "
        f"processes; name it in {ENV_FILE_VARIABLE} to trust it"
    )


def describe_hidden(nearest: EnvFile, farther: EnvFile) -> str:
    return (
        f"{nearest.path} sets nothing for autoseed, and hides {farther.path}, which sets "
        f"AUTOSEED keys: only the nearest .env is read (as python-dotenv's find_dotenv reads "
        f"it), so nothing of it is used; move those lines into {nearest.path}, or name "
        f"{farther.path} in {ENV_FILE_VARIABLE}"
    )


def describe_setting_beyond_limit(env_file: "EnvFile | None") -> "Note | None":
    """For a ``.env`` larger than the part read at start-up that gave no setting: whether a
    line further on sets one, which would be silently ignored. Reads the rest of the file."""
    if env_file is None or not env_file.truncated or env_file.foreign_owner is not None:
        return None
    if env_file.wide_encoding is not None or env_file.mentions_autoseed:
        return None
    line = env_file.first_setting_beyond_the_limit()
    if line is None:
        return None
    return Note(
        f"{env_file.path}, line {line}, sets an AUTOSEED key after the first "
        f"{ENV_FILE_READ_LIMIT >> 20} MiB, which is all autoseed reads of a .env, so it is "
        "ignored; move the AUTOSEED lines to the top of the file",
        unmet=True,
    )


def settings_from_env_file(
    env_file: EnvFile, environ: "Mapping[str, str]"
) -> "tuple[dict[str, Setting], list[Note]]":
    """The file's ``AUTOSEED*`` settings (names that only look like ours included, to be
    reported as misspellings), their values read by python-dotenv, and notes. A line that sets
    such a key but cannot be parsed raises :class:`ConfigError`, as an invalid value does:
    skipping it would run unseeded."""
    settings: dict[str, Setting] = {}
    notes: list[Note] = []
    bindings = env_file.bindings()
    for binding in bindings:
        if binding.error is not None:
            raise ConfigError(
                f"{shorten(binding.error)} ({env_file.path}, line {binding.line}) cannot be "
                f"parsed; expected KEY=VALUE with any quotes closed, e.g. {SEED_VARIABLE}=1024"
            )
    if not bindings:
        return settings, notes
    from autoseed.settings.file_values import read_values

    try:
        values = read_values(env_file.text, bindings, environ)
    except ImportError as error:
        first = bindings[0]
        raise ConfigError(
            f"{first.key} ({env_file.path}, line {first.line}) cannot be read: autoseed reads "
            f".env files with python-dotenv, which {sys.executable} cannot import ({error}); "
            "install it: python -m pip install python-dotenv"
        ) from None
    for binding, value in zip(bindings, values, strict=True):
        where = f"{env_file.path}, line {binding.line}"
        key = binding.key or ""
        why = ENVIRONMENT_ONLY.get(key)
        if why is not None:
            notes.append(Note(
                f"{key} in {where} is ignored: it is read from the environment only ({why})"
            ))  # fmt: skip
            continue
        if key == SEED_VARIABLE and not (value or "").strip() and "${" in binding.source:
            notes.append(describe_empty_expansion(binding.source, where))
        settings[key] = Setting(key, value or "", where)
    return settings, notes


def describe_empty_expansion(source: str, where: str) -> Note:
    """``AUTOSEED=${SEED}`` with ``SEED`` unset or empty: the empty value turns autoseed off,
    as any empty value does, but a file that names the seed asked for one: said, not silent."""
    written = source.split("=", 1)[-1].strip()
    return Note(
        f"{SEED_VARIABLE}={shorten(written)} ({where}) expands to an empty value, so nothing "
        "is seeded; set the variable it names, or give it a default: ${VAR:-0} for a seed, "
        "${VAR:-off} for off on purpose (a default applies only where VAR is unset)",
        unmet=True,
    )


def load_settings(
    environ: "Mapping[str, str]", env_file: "EnvFile | None"
) -> "tuple[dict[str, Setting], list[Note]]":
    """Collect the environment's and the ``.env`` file's settings, and what to tell."""
    file_settings, notes = read_file_settings(env_file, environ)
    return collect_settings(environ, file_settings), notes


def located_env_file(environ: "Mapping[str, str]") -> "EnvFile | None":
    located = locate_env_file(environ)
    return read_nearest_env_file(*located, environ) if located is not None else None


def resolve_environment(environ: "Mapping[str, str]") -> "tuple[SeedPlan, list[Note]]":
    """The plan that ``environ`` and its ``.env`` file ask for, and what to tell about them."""
    env_file = located_env_file(environ)
    settings, notes = load_settings(environ, env_file)
    beyond = describe_setting_beyond_limit(env_file)
    return resolve_config(settings, environ), [*notes, *([beyond] if beyond else [])]
