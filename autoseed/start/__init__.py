"""The start: what the gate (``_autoseed_startup.py``) hands over to, in a process where
something might ask for autoseed: a name in the environment that might be a setting, or a
``.env`` from the working directory up.

Door: :func:`start`, here: decide, restart, activate. When the seed comes from the environment
alone, the restart for the hash seed (``restart.py``) happens before the rest of autoseed is
imported, so that it costs one bare interpreter start; otherwise ``activation.py`` resolves the
plan, restarts where the hash seed needs it, and applies it. ``install.py`` writes and removes
the start-up files themselves (``autoseed install``), kept in ``startup_files/``; ``status.py``
says what the start does in this interpreter, and why (``autoseed status``, ``%autoseed``).
"""

import os

from autoseed.names import (
    HANDOVER_VARIABLE,
    hash_seed_is_fixed,
    locate_env_file,
    looks_like_setting,
)

# The hand-over this interpreter was restarted with (None: not restarted by autoseed).
handover: "str | None" = None


def start(environ: "os._Environ[str]") -> None:
    """Activate autoseed when the environment or a ``.env`` asks for it. In a child whose hash
    seed is fixed this runs at the program's first import (the gate waits for it)."""
    global handover
    handover = environ.pop(HANDOVER_VARIABLE, None)
    asked = handover is not None or any(map(looks_like_setting, environ))
    env_file = None
    if handover is None:
        located = locate_env_file(environ)
        if located is not None:
            from autoseed.settings.env_file import read_env_file

            env_file = read_env_file(*located)
    news = env_file is not None and env_file.has_news
    if not asked and not news:
        return
    if handover is None and not news and not hash_seed_is_fixed(environ):
        from autoseed.start.restart import restart_early  # returns only when it did not restart

        restart_early(environ)
    from autoseed.start.activation import activate_from_startup

    activate_from_startup(environ, env_file, handover)
