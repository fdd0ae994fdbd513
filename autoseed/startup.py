"""What the start-up gate (``_autoseed_startup.py``) hands over to: decide, restart, activate.

Reached only where something might ask for autoseed: a name in the environment that looks like
a setting, or a ``.env`` from the working directory up. When the seed comes from the
environment alone, the restart for the hash seed happens here, before the rest of autoseed is
imported, so that it costs one bare interpreter start.
"""

import os

from autoseed.names import HANDOVER_VARIABLE, locate_env_file, looks_like_setting, say_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

# The hand-over this interpreter was restarted with (None: not restarted by autoseed).
handover: "str | None" = None


def start(environ: "os._Environ[str]", late: bool) -> None:
    """Activate autoseed when the environment or a ``.env`` asks for it.

    ``late``: the gate saw only names that might be slips of ``AUTOSEED``, and waited for the
    first import of numpy or torch; only reporting them is left to do.
    """
    global handover
    if late:
        report_setting_slips(environ)
        return
    handover = environ.pop(HANDOVER_VARIABLE, None)
    asked = handover is not None or any(map(looks_like_setting, environ))
    env_file = None
    if handover is None:
        located = locate_env_file(environ)
        if located is not None:
            from autoseed.envfile import read_env_file

            env_file = read_env_file(*located)
    if not asked and not (env_file and env_file.has_news):
        return
    if handover is None and not (env_file and env_file.has_news):
        from autoseed.restart import restart_early  # returns only when it did not restart

        restart_early(environ)
    from autoseed.activation import activate_from_startup

    activate_from_startup(environ, env_file, handover)


def report_setting_slips(environ: "os._Environ[str]") -> None:
    """Names that look like settings but are none (``AUTO_SEED``, ``AUTOSED``), said now: the
    gate saw no setting, only names that might be slips, and waited for numpy or torch."""
    from autoseed.config import collect_settings, describe_unknown

    for setting in collect_settings(environ).values():
        say_once(describe_unknown(setting))
