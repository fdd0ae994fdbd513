"""Turn the start-up configuration (environment and ``.env``) into an applied plan."""

from autoseed import _startup, hook, restart
from autoseed._startup import ENV_FILE_VARIABLE, TRACE_VARIABLE, warn
from autoseed.config import (
    ENVIRONMENT,
    HASH_SEED_MODE_VARIABLE,
    REEXEC_WORD,
    SEED_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    collect_settings,
    resolve_config,
)
from autoseed.seeding import apply_plan, refuse_unseeded_imports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

    from autoseed.envhead import EnvFileHead


def read_file_settings(env_file: "EnvFileHead | None") -> tuple[dict[str, Setting], list[str]]:
    """The ``.env`` file's ``AUTOSEED*`` settings, and problems to report.

    Raises :class:`ConfigError` when ``AUTOSEED_ENV_FILE`` names a file that cannot be read; a
    ``.env`` found by the lookup that cannot be read is only reported.
    """
    if env_file is None:
        return {}, []
    if env_file.error is not None:
        reason = env_file.error.strerror or str(env_file.error)
        if env_file.explicit:
            raise ConfigError(
                f"{ENV_FILE_VARIABLE}={env_file.path!r} (from {ENVIRONMENT}) cannot be read "
                f"({reason}); expected a readable file, or 'none' to skip the .env lookup"
            )
        return {}, [f"could not read {env_file.path} ({reason}); its settings are ignored"]
    if env_file.foreign_owner is not None:
        return {}, [describe_foreign_owner(env_file)]
    if not env_file.mentions_autoseed:
        return {}, []
    # python-dotenv's parser is loaded only here: when a file exists that mentions AUTOSEED.
    from autoseed.envfile import settings_from_env_file

    return settings_from_env_file(env_file)


def describe_foreign_owner(env_file: "EnvFileHead") -> str:
    return (
        f"{env_file.path} is ignored: it belongs to another user (uid {env_file.foreign_owner}), "
        f"and only your own or root's .env files configure your processes; name it in "
        f"{ENV_FILE_VARIABLE} to trust it"
    )


def load_settings(
    environ: "Mapping[str, str]", env_file: "EnvFileHead | None"
) -> tuple[dict[str, Setting], list[str]]:
    """Collect the environment's and the ``.env`` file's settings, and problems to report."""
    file_settings, problems = read_file_settings(env_file)
    return collect_settings(environ, file_settings), problems


# The configuration error the start-up hook met in this process, if any (for `autoseed status`).
startup_error: ConfigError | None = None


def resolve_environment(environ: "Mapping[str, str]") -> tuple[SeedPlan, list[str]]:
    """The plan that ``environ`` and its ``.env`` file ask for, and the problems met on the way."""
    from autoseed.envhead import read_env_file_head

    located = _startup.locate_env_file(environ)
    settings, problems = load_settings(environ, read_env_file_head(located))
    return resolve_config(settings, environ), problems


def activate_from_startup(
    environ: "Mapping[str, str]", env_file: "EnvFileHead | None", handover: str | None
) -> None:
    """Resolve, report and apply the configuration; an invalid one refuses numpy and torch.

    ``handover`` is what this interpreter was restarted with: the ``.env`` settings and the
    problems already found, so that the file is not read twice.
    """
    try:
        if handover is None:
            file_settings, problems = read_file_settings(env_file)
        else:
            entries, problems = restart.decode_handover(handover)
            file_settings = {entry[0]: Setting(*entry) for entry in entries}
        settings = collect_settings(environ, file_settings)
        plan = resolve_config(settings, environ)
    except ConfigError as error:
        global startup_error
        startup_error = error
        warn(f"{error}; importing numpy or torch fails until this is fixed")
        refuse_unseeded_imports(error)
        return
    if handover is None:
        restart_for_hash_seed(plan, environ, file_settings, problems)
    elif plan.verbose:
        warn(f"restarted once with {restart.HASH_SEED_VARIABLE}={environ.get('PYTHONHASHSEED')}")
    for message in [*problems, *plan.warnings]:
        warn(message)
    apply_plan(plan, export=False)
    if plan.effective_seed is not None:
        # Waits for IPython's import; never imports it (autoseed/ipython.py says why).
        hook.when_imported("IPython.core.interactiveshell", _prepare_ipython)
    if TRACE_VARIABLE in environ:  # set by `autoseed verify --explain` for its traced runs
        hook.when_imported("torch", _start_tracing)


def _start_tracing(torch: "ModuleType") -> None:
    try:
        from autoseed.trace import start_tracing

        start_tracing(torch)
    except Exception as exc:  # runs inside the user's import of torch: report, never raise
        warn(f"could not trace torch operators: {type(exc).__name__}: {exc}")


def _prepare_ipython(interactiveshell: "ModuleType") -> None:
    try:
        from autoseed.ipython import prepare_shell_class

        prepare_shell_class(interactiveshell)
    except Exception as exc:  # runs inside the user's import of IPython: report, never raise
        warn(f"could not prepare IPython's shells: {type(exc).__name__}: {exc}")


def restart_for_hash_seed(
    plan: SeedPlan,
    environ: "Mapping[str, str]",
    file_settings: dict[str, Setting],
    problems: list[str],
) -> None:
    """Restart with ``PYTHONHASHSEED`` set to this process's seed, when that is asked and safe.

    Returns only when it did not restart; says why on stderr only where that helps: under
    ``AUTOSEED_VERBOSE`` or an explicit ``AUTOSEED_HASHSEED=reexec`` (``status`` always says).
    """
    seed = plan.effective_seed
    if seed is None or not plan.reexec or restart.hash_seed_is_fixed(environ):
        return
    # A drawn seed is said once: here, just before the restart, or by apply_plan if none.
    drawn = f"{SEED_VARIABLE}={plan.seed}" if plan.seed_drawn and not plan.seed_inherited else None
    handover = restart.encode_handover(
        [(s.variable, s.raw, s.source) for s in file_settings.values()], problems
    )
    reason = restart.restart(seed, handover, plan.drawn_seed_environment(), announce=drawn)
    explicit = plan.settings.get(HASH_SEED_MODE_VARIABLE)
    if reason == restart.THE_COMMAND_ITSELF:
        return
    if plan.verbose or (explicit is not None and explicit.raw.strip().casefold() == REEXEC_WORD):
        warn(f"{HASH_SEED_MODE_VARIABLE}: no restart, {reason}; hash() stays randomized here")
