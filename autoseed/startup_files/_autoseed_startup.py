"""autoseed's start-up gate: ``autoseed.pth`` runs :func:`run` in every interpreter.

Only the off path lives here (a look at the environment's names, a stat per directory up to the
root), because where bytecode is not written every start compiles this file. Whatever asks for
autoseed goes to ``autoseed.startup``; nothing imports this module. PYTEST_DONT_REWRITE: pytest
must not warn that a plugin's module was imported before it started.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ran = False


def run() -> None:
    global ran
    if ran:  # site.py reads a venv's .pth files twice (CPython #75723)
        return
    ran = True
    try:
        names = [name for name in os.environ if might_be_setting(name)]
        if any(n.startswith(("AUTOSEED", "_AUTOSEED_HANDOVER")) for n in names) or _env_file():
            _hand_over(False)
        elif names:  # only names that might be slips of AUTOSEED: judged when a line helps
            sys.meta_path.insert(0, _AtFirstImport(_hand_over))
    # SystemExit from a .pth line would end the interpreter; an unrelated program must run on.
    except (Exception, SystemExit) as exc:
        _say(f"start-up hook failed and did nothing: {type(exc).__name__}: {exc}")


def might_be_setting(name: str) -> bool:
    """Passed by every name that autoseed calls a setting or a slip of one (names.py)."""
    squeezed = name.upper().replace("_", "")
    return squeezed.startswith(("AUT", "AAUT")) or "EED" in squeezed[4:9]


def _env_file() -> bool:
    try:
        directory = os.getcwd()
    except OSError:  # a deleted working directory has no .env to look up
        return False
    while not os.path.isfile(os.path.join(directory, ".env")):
        if directory == (directory := os.path.dirname(directory)):
            return False
    return True


def _hand_over(late: bool = True) -> None:
    try:
        from autoseed.startup import start
    except ImportError:
        if not late and any(n.startswith("AUTOSEED") for n in os.environ):
            sys.meta_path.insert(0, _AtFirstImport(_unimportable))
        return
    start(os.environ, late)


def _unimportable() -> None:
    told = os.environ.get("_AUTOSEED_TOLD", "").split()
    if "unimportable" not in told:  # once per job: children inherit the variable
        os.environ["_AUTOSEED_TOLD"] = " ".join([*told, "unimportable"])
        _say(
            f"AUTOSEED is set but {sys.executable} cannot import autoseed, so nothing was seeded; "
            f"install autoseed for it, or remove {os.path.dirname(__file__)}/autoseed.pth"
        )


def _say(message: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"autoseed: {message}\n")


class _AtFirstImport:
    """Acts once, at the first import of numpy or torch: where a line about autoseed helps."""

    def __init__(self, act: "Callable[[], None]") -> None:
        self.act = act

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name in ("numpy", "torch") and self in sys.meta_path:
            sys.meta_path.remove(self)
            try:
                self.act()
            except Exception as exc:  # inside the user's import: report, never raise
                _say(f"{type(exc).__name__}: {exc}")
