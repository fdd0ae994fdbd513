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
import sys

from autoseed.names import (
    HANDOVER_VARIABLE,
    hash_seed_is_fixed,
    locate_env_file,
    looks_like_setting,
    reported,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    from autoseed.settings.env_file import EnvFile

SITE_LAST_IMPORTS = ("sitecustomize", "usercustomize")
# The hand-over this interpreter was restarted with (None: not restarted by autoseed).
handover: "str | None" = None
# Whether the start already waited for every site directory to be on sys.path.
_waited = False


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
            from autoseed.settings.env_file import read_nearest_env_file

            env_file = read_nearest_env_file(*located, environ)
    news = env_file is not None and env_file.has_news
    if not asked and not news:
        return
    if env_file is not None and _waits_for_python_dotenv(env_file):
        sys.meta_path.insert(0, _OnceEverySiteDirectory(environ))
        return
    if handover is None and not news and not hash_seed_is_fixed(environ):
        from autoseed.start.restart import restart_early  # returns only when it did not restart

        restart_early(environ)
    from autoseed.start.activation import activate_from_startup

    activate_from_startup(environ, env_file, handover)


def _waits_for_python_dotenv(env_file: "EnvFile") -> bool:
    """Whether the start must wait for the program's first import, once site.py is done: the
    ``.env`` has settings, and python-dotenv, which reads them, is not on ``sys.path`` yet. It
    may be in a site directory that site.py adds after this one: the base interpreter's, in a
    venv made with ``--system-site-packages``, where pip found it installed already."""
    site = getattr(sys.modules.get("site"), "__spec__", None)
    if _waited or not env_file.mentions_autoseed or not getattr(site, "_initializing", False):
        return False
    from autoseed.settings.file_values import python_dotenv_importable

    return not python_dotenv_importable()


class _OnceEverySiteDirectory:
    """Starts again once site.py has put every site directory on ``sys.path``: at the import
    of sitecustomize, the last thing it does (whether one exists or not), else at the first
    import after it."""

    def __init__(self, environ: "os._Environ[str]") -> None:
        self.environ = environ

    def find_spec(
        self, name: str, path: "Sequence[str] | None" = None, target: "ModuleType | None" = None
    ) -> "ModuleSpec | None":
        site = getattr(sys.modules.get("site"), "__spec__", None)
        if getattr(site, "_initializing", False) and name not in SITE_LAST_IMPORTS:
            return None
        if self not in sys.meta_path:
            return None
        global _waited
        _waited = True
        sys.meta_path.remove(self)
        _start_again(self.environ)
        # The import system goes on from this finder's place in the list it is walking, which
        # has just changed: answer for the others.
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(name, path, target)
            if spec is not None:
                return spec  # type: ignore[no-any-return]
        return None


@reported("start")
def _start_again(environ: "os._Environ[str]") -> None:
    start(environ)  # inside an import: reported, never raised
