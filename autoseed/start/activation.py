"""Turn what the start-up hand-over found (environment and ``.env``) into an applied plan."""

from autoseed.hook import when_imported
from autoseed.names import (
    HASH_SEED_VARIABLE,
    TRACE_VARIABLE,
    hash_seed_is_fixed,
    is_autoseed_command,
    reported,
    warn,
)
from autoseed.seeding.libraries import apply_plan, refuse_unseeded_imports
from autoseed.settings.plan import (
    HASH_SEED_MODE_VARIABLE,
    REEXEC_WORD,
    SEED_VARIABLE,
    ConfigError,
    SeedPlan,
    Setting,
    collect_settings,
    resolve_config,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

    from autoseed.settings.env_file import EnvFile
    from autoseed.settings.sources import Note

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
            from autoseed.settings import sources
            from autoseed.start import restart

            entries, pairs = restart.decode_handover(handover)
            file_settings = {entry[0]: Setting(*entry) for entry in entries}
            notes = [sources.Note(text, unmet) for text, unmet in pairs]
        elif env_file is not None:
            from autoseed.settings.sources import read_file_settings

            file_settings, notes = read_file_settings(env_file, environ)
        plan = resolve_config(collect_settings(environ, file_settings), environ)
    except ConfigError as error:
        startup_error = error
        # Said where it helps, at the refused import, never at every bare start in the tree;
        # the autoseed command says it in its own terms.
        told = None if is_autoseed_command() else (
            f"{error}; importing numpy or torch fails until this is fixed"
        )  # fmt: skip
        refuse_unseeded_imports(error, told)
        return
    if handover is None:
        restart_for_hash_seed(plan, environ, file_settings, notes)
    elif plan.verbose:
        warn(f"restarted once with {HASH_SEED_VARIABLE}={environ.get(HASH_SEED_VARIABLE)}")
    _tell_at_first_import(env_file, file_settings, [note.text for note in notes], plan)
    if TRACE_VARIABLE in environ:  # set by `autoseed verify --explain` for its traced runs
        _write_seed_calls_to_the_trace()
    apply_plan(plan, export=False, restarted=handover is not None)
    if plan.manifest is not None and not is_autoseed_command():
        _write_manifest_at_exit(plan)
    if plan.resume and plan.seed is not None:
        _watch_checkpoints(plan)
    if plan.effective_seed is not None:
        # Waits for IPython's import; never imports it (autoseed/integrations/ipython.py says why).
        when_imported("IPython.core.interactiveshell", _prepare_ipython)
    # Also without a seed now: the script may call seed_everything() before it starts a run.
    when_imported("mlflow", _record_in_mlflow_runs)
    when_imported("wandb", _record_in_wandb_runs)
    if TRACE_VARIABLE in environ:  # set by `autoseed verify --explain` for its traced runs
        when_imported("torch", _start_tracing)
        _record_outside_reads()
        _record_writes()


def _tell_at_first_import(
    env_file: "EnvFile | None", file_settings: dict[str, Setting], notes: list[str], plan: SeedPlan
) -> None:
    """What the configuration could not do, said at the first import of numpy or torch."""
    beyond = env_file is not None and env_file.truncated and not file_settings
    if not (notes or plan.warnings or beyond):
        return
    from autoseed.settings import notices

    for text in [*notes, *plan.warnings]:
        notices.tell_at_first_import(text)
    if beyond and env_file is not None:
        from autoseed.settings.sources import describe_setting_beyond_limit

        notices.tell_at_first_import(lambda: _text(describe_setting_beyond_limit(env_file)))


def _text(note: "Note | None") -> "str | None":
    return None if note is None else note.text


def _watch_checkpoints(plan: SeedPlan) -> None:
    """``AUTOSEED_RESUME``: random states beside each checkpoint, restored at a resume."""

    @reported("watch torch.save and torch.load")
    def watch_torch(torch: "ModuleType") -> None:
        from autoseed.resume.checkpoints import watch_checkpoints

        watch_checkpoints(torch, plan)

    @reported("watch Lightning's checkpoints")
    def watch_lightning_io(torch_io: "ModuleType") -> None:
        from autoseed.resume.checkpoints import watch_lightning

        watch_lightning(torch_io, plan)

    when_imported("torch", watch_torch)
    for module_name in ("lightning.fabric.plugins.io.torch_io",
                        "lightning_fabric.plugins.io.torch_io"):  # fmt: skip
        when_imported(module_name, watch_lightning_io)


def _write_seed_calls_to_the_trace() -> None:
    """In a traced run, every seed call goes to this process's ``.seeds`` file."""
    from contextlib import suppress

    from autoseed.seeding import ledger
    from autoseed.verify.trace import append_line

    def write(line: str) -> None:
        with suppress(OSError):  # a traced run's record must never break the run
            append_line(ledger.LEDGER_SUFFIX, line)

    ledger.write_lines_with(write)


@reported("start the run manifest")
def _write_manifest_at_exit(plan: SeedPlan) -> None:
    from autoseed.record.manifest import arm

    arm(plan)


@reported("trace torch operators")
def _start_tracing(torch: "ModuleType") -> None:
    from autoseed.seeding.calls import watch_generator_seeding
    from autoseed.verify.trace import start_tracing

    start_tracing(torch, watch_generator_seeding(torch))


@reported("record reads of the clock")
def _record_outside_reads() -> None:
    from autoseed.verify.outside import start_recording

    start_recording()


@reported("record what each process writes")
def _record_writes() -> None:
    from autoseed.verify.writes import start_recording

    start_recording()


@reported("watch mlflow.start_run")
def _record_in_mlflow_runs(mlflow: "ModuleType") -> None:
    from autoseed.integrations.mlflow import watch_start_run

    watch_start_run(mlflow)


@reported("watch wandb.init")
def _record_in_wandb_runs(wandb: "ModuleType") -> None:
    from autoseed.integrations.wandb import watch_init

    watch_init(wandb)


@reported("prepare IPython's shells")
def _prepare_ipython(interactiveshell: "ModuleType") -> None:
    from autoseed.integrations.ipython import prepare_shell_class
    from autoseed.start.status import describe_status

    prepare_shell_class(interactiveshell, describe_status)


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
    if not (hash_seed_wanted or plan.fixed_addresses):
        return  # a child of a seeded process: its hash seed is fixed, nothing to restart for
    from autoseed.start import restart

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
