"""IPython and Jupyter: a fresh seed right before the first cell, and the ``%autoseed`` magic.

IPython draws from ``random`` before the first cell runs (IPython 9 picks a banner tip with
``random.choice`` at every ``kernel_info`` request), so a notebook's first draws depended on
what the frontend had sent. Where autoseed is active, the start-up hook waits for
``IPython.core.interactiveshell`` to be imported (it never imports IPython itself) and wraps
``InteractiveShell.init_events``: each shell then gets a ``pre_run_cell`` callback that, before
the first cell, reseeds every library autoseed seeds (third-party seeders included) through the
same seeders as everything else, but not one that a startup file seeded itself (``random`` is
put back as that seed left it: IPython drew from it since), and registers ``%autoseed``.
Later imports are seeded at their import, as in a script. Silent executions (a frontend's own
requests) do not count as the first cell: IPython does not fire ``pre_run_cell`` for them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from autoseed.seeding.calls import restore_random_as_code_seeded_it
from autoseed.seeding.libraries import active_plan, reseed_everything, seed_everything
from autoseed.settings.plan import MAX_SEED, ConfigError, Setting, parse_seed

MAGIC_USAGE = "usage: %autoseed (this kernel's status) | %autoseed reseed [SEED]"


def prepare_shell_class(interactiveshell: Any, describe_status: Callable[[], str]) -> None:
    """Make every shell created from now on reseed before its first cell (once per class).

    ``describe_status``: what ``%autoseed`` prints, ``autoseed status`` for this kernel (the
    caller passes it in: the status reads every stage, this room sits below it)."""
    shell_class = interactiveshell.InteractiveShell
    original = shell_class.init_events
    if getattr(original, "autoseed_wrapped", False):
        return

    def init_events(shell: Any) -> None:
        original(shell)
        _reseed_before_first_cell(shell, describe_status)

    init_events.autoseed_wrapped = True  # type: ignore[attr-defined]
    init_events.__wrapped__ = original  # type: ignore[attr-defined]
    shell_class.init_events = init_events


def _reseed_before_first_cell(shell: Any, describe_status: Callable[[], str]) -> None:
    def first_cell(*_: object) -> None:
        shell.events.unregister("pre_run_cell", first_cell)
        plan = active_plan()
        if plan is not None and plan.effective_seed is not None:
            # A seed that a profile's startup file set is the user's own: it wins, in the state
            # it left random in (IPython drew banner tips from it since).
            reseed_everything(plan, keep_code_seeds=True)
            random = sys.modules.get("random")
            if random is not None:
                restore_random_as_code_seeded_it(random)
        load_ipython_extension(shell, describe_status)

    shell.events.register("pre_run_cell", first_cell)


def load_ipython_extension(shell: Any, describe_status: Callable[[], str]) -> None:
    """``%load_ext autoseed`` (and every shell where autoseed is active): ``%autoseed``."""

    def autoseed(line: str) -> None:
        autoseed_magic(line, describe_status)

    autoseed.__doc__ = autoseed_magic.__doc__
    shell.register_magic_function(autoseed, magic_kind="line", magic_name="autoseed")


def autoseed_magic(line: str, describe_status: Callable[[], str]) -> None:
    """``%autoseed``: this kernel's own status. ``%autoseed reseed [SEED]``: reseed now."""
    words = line.split()
    if not words:
        print(describe_status())
        return
    if words[0] != "reseed" or len(words) > 2:
        print(MAGIC_USAGE)
        return
    plan = active_plan()
    if len(words) == 1:
        if plan is None or plan.effective_seed is None:
            print("autoseed is off in this kernel; give a seed: %autoseed reseed 1024")
            return
        reseed_everything(plan)
        print(f"autoseed: reseeded with {plan.effective_seed}")
        return
    setting = Setting("SEED", words[1], "%autoseed reseed")
    try:
        seed = parse_seed(setting)
    except ConfigError:
        seed = None
    if not isinstance(seed, int):
        print(f"{setting.invalid(f'an integer 0..{MAX_SEED}')}")
        return
    # Keep the kernel's other settings (cudnn, deterministic algorithms) when it has some.
    if plan is not None:
        reseed_everything(plan.with_seed(seed))
    else:
        seed_everything(seed)
    print(f"autoseed: reseeded with {seed}")
