"""Turn what the start-up hand-over found (environment and ``.env``) into an applied plan."""

from autoseed import hook
from autoseed.config import (
    HASH_SEED_MODE_VARIABLE,
    REEXEC_WORD,
    SEED_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    collect_settings,
    resolve_config,
)
from autoseed.names import (
    HASH_SEED_VARIABLE,
    TRACE_VARIABLE,
    hash_seed_is_fixed,
    reported,
    say_once,
    warn,
)
from autoseed.seeding import apply_plan, refuse_unseeded_imports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

    from autoseed.envfile import EnvFile
    from autoseed.resolution import Note

# The configuration error the start-up hook met in this process, if any (for `autoseed status`).
startup_error: ConfigError | None = None


def activate_from_startup(
    environ: "Mapping[str, str]", env_file: "EnvFile | None", handover: str | None
) -> None:
    """Resolve, report and apply the configuration; an invalid one refuses numpy and torch.

    ``handover`` is what this interpreter was restarted with: the ``.env`` settings and the
    notes already found, so that the file is not read twice.
    """
    global startup_error
    file_settings: dict[str, Setting] = {}
    notes: list[Note] = []
    # A child of a seeded process (a DataLoader worker, a rank) has no .env news and no
    # hand-over: it imports nothing more than it needs to seed.
    try:
        if handover is not None:
            from autoseed import resolution, restart

            entries, pairs = restart.decode_handover(handover)
            file_settings = {entry[0]: Setting(*entry) for entry in entries}
            notes = [resolution.Note(text, unmet) for text, unmet in pairs]
        elif env_file is not None:
            from autoseed.resolution import read_file_settings

            file_settings, notes = read_file_settings(env_file)
        plan = resolve_config(collect_settings(environ, file_settings), environ)
    except ConfigError as error:
        from autoseed.restart import is_autoseed_command

        startup_error = error
        if not is_autoseed_command():  # which says it in its own terms
            say_once(f"{error}; importing numpy or torch fails until this is fixed")
        refuse_unseeded_imports(error)
        return
    if handover is None:
        restart_for_hash_seed(plan, environ, file_settings, notes)
    elif plan.verbose:
        warn(f"restarted once with {HASH_SEED_VARIABLE}={environ.get(HASH_SEED_VARIABLE)}")
    _tell_at_first_import(env_file, file_settings, [note.text for note in notes], plan)
    apply_plan(plan, export=False, restarted=handover is not None)
    if plan.effective_seed is not None:
        # Waits for IPython's import; never imports it (autoseed/ipython.py says why).
        hook.when_imported("IPython.core.interactiveshell", _prepare_ipython)
    if TRACE_VARIABLE in environ:  # set by `autoseed verify --explain` for its traced runs
        hook.when_imported("torch", _start_tracing)
        _record_outside_reads()
        _record_writes()


def _tell_at_first_import(
    env_file: "EnvFile | None", file_settings: dict[str, Setting], notes: list[str], plan: SeedPlan
) -> None:
    """What the configuration could not do, said at the first import of numpy or torch."""
    beyond = env_file is not None and env_file.truncated and not file_settings
    if not (notes or plan.warnings or beyond):
        return
    from autoseed import notices

    for text in [*notes, *plan.warnings]:
        notices.tell_at_first_import(text)
    if beyond and env_file is not None:
        from autoseed.resolution import describe_setting_beyond_limit

        notices.tell_at_first_import(lambda: _text(describe_setting_beyond_limit(env_file)))


def _text(note: "Note | None") -> "str | None":
    return None if note is None else note.text


@reported("trace torch operators")
def _start_tracing(torch: "ModuleType") -> None:
    from autoseed.seedcalls import watch_generator_seeding
    from autoseed.trace import start_tracing

    start_tracing(torch, watch_generator_seeding(torch))


@reported("record reads of the clock")
def _record_outside_reads() -> None:
    from autoseed.outside import start_recording

    start_recording()


@reported("record what each process writes")
def _record_writes() -> None:
    from autoseed.writes import start_recording

    start_recording()


@reported("prepare IPython's shells")
def _prepare_ipython(interactiveshell: "ModuleType") -> None:
    from autoseed.ipython import prepare_shell_class

    prepare_shell_class(interactiveshell)


def restart_for_hash_seed(
    plan: SeedPlan,
    environ: "Mapping[str, str]",
    file_settings: dict[str, Setting],
    notes: "list[Note]",
) -> None:
    """Restart with ``PYTHONHASHSEED`` set to the base seed, when that is asked and safe.

    The base seed, not the rank's: string hashing and set order must agree across the ranks of
    a job, as they do under torchrun, whose ranks inherit the launcher's hash seed. Returns
    only when it did not restart; says why on stderr only where that helps: under
    ``AUTOSEED_VERBOSE`` or an explicit ``AUTOSEED_HASHSEED=reexec`` (``status`` always says).
    """
    seed = plan.seed
    if seed is None:
        return
    hash_seed_wanted = plan.reexec and not hash_seed_is_fixed(environ)
    from autoseed import restart

    fix_addresses = plan.fixed_addresses and not restart.addresses_fixed()
    if not (hash_seed_wanted or fix_addresses):
        return

    # A drawn seed is said once: here, just before the restart, or by apply_plan if none.
    drawn = f"{SEED_VARIABLE}={plan.seed}" if plan.seed_drawn and not plan.seed_inherited else None
    handover = restart.encode_handover(
        [(s.variable, s.raw, s.source) for s in file_settings.values()],
        [(note.text, note.unmet) for note in notes],
    )
    reason = restart.restart(
        seed if hash_seed_wanted else None,
        handover,
        plan.drawn_seed_environment(),
        announce=drawn,
        fix_addresses=fix_addresses,
    )
    explicit = plan.settings.get(HASH_SEED_MODE_VARIABLE)
    if reason == restart.THE_COMMAND_ITSELF:
        return
    if plan.verbose or (explicit is not None and explicit.raw.strip().casefold() == REEXEC_WORD):
        warn(f"{HASH_SEED_MODE_VARIABLE}: no restart, {reason}; hash() stays randomized here")
