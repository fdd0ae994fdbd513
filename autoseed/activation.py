"""Turn the start-up configuration (environment and ``.env``) into an applied plan."""

from autoseed._startup import (
    ENV_FILE_VARIABLE,
    EnvFileHead,
    locate_env_file,
    read_env_file_head,
    warn,
)
from autoseed.config import (
    ENVIRONMENT,
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


def load_settings(
    environ: "Mapping[str, str]", env_file: EnvFileHead | None
) -> tuple[dict[str, Setting], list[str]]:
    """Collect the environment's and the ``.env`` file's settings, and problems to report.

    Raises :class:`ConfigError` when ``AUTOSEED_ENV_FILE`` names a file that cannot be read; a
    ``.env`` found by the lookup that cannot be read is only reported.
    """
    problems: list[str] = []
    file_settings: dict[str, Setting] = {}
    if env_file is not None and env_file.error is not None:
        reason = env_file.error.strerror or str(env_file.error)
        if env_file.explicit:
            raise ConfigError(
                f"{ENV_FILE_VARIABLE}={env_file.path!r} (from {ENVIRONMENT}) cannot be read "
                f"({reason}); expected a readable file, or 'none' to skip the .env lookup"
            )
        problems.append(f"could not read {env_file.path} ({reason}); its settings are ignored")
    elif env_file is not None and env_file.mentions_autoseed:
        # python-dotenv is imported only here: when a file exists that mentions AUTOSEED.
        from autoseed.envfile import settings_from_env_file

        file_settings, file_problems = settings_from_env_file(env_file)
        problems += file_problems
    return collect_settings(environ, file_settings), problems


# The configuration error the start-up hook met in this process, if any (for `autoseed status`).
startup_error: ConfigError | None = None


def resolve_environment(environ: "Mapping[str, str]") -> tuple[SeedPlan, list[str]]:
    """The plan that ``environ`` and its ``.env`` file ask for, and the problems met on the way."""
    settings, problems = load_settings(environ, read_env_file_head(locate_env_file(environ)))
    return resolve_config(settings, environ), problems


def activate_from_startup(environ: "Mapping[str, str]", env_file: EnvFileHead | None) -> None:
    """Resolve, report and apply the configuration; an invalid one refuses numpy and torch."""
    try:
        settings, problems = load_settings(environ, env_file)
        for problem in problems:
            warn(problem)
        plan = resolve_config(settings, environ)
    except ConfigError as error:
        global startup_error
        startup_error = error
        warn(f"{error}; importing numpy or torch fails until this is fixed")
        refuse_unseeded_imports(error)
        return
    for message in plan.warnings:
        warn(message)
    if plan.reexec:
        from autoseed.reexec import reexec_with_hash_seed

        reexec_with_hash_seed(plan)
    apply_plan(plan)
