"""autoseed's start-up gate: what ``autoseed.pth`` hands over to. PYTEST_DONT_REWRITE

The off path lives in the ``.pth`` line itself, so that an interpreter where nothing asks for
autoseed neither compiles nor imports a file (where bytecode is not written, compiling any file
first builds the ``ast`` types, about 1.5 ms). The line looks at the environment's names (all at
once, in C: a name that starts with AUTO, or has EED at index 4 to 6, once upper-cased and
without underscores: ``names.might_be_setting``) and for a ``.env`` from the working directory
up. It looks into each ``.env`` it finds (``names.env_file_might_ask``): one that sets nothing
for autoseed, a project's ordinary ``.env``, is stepped over at C speed, and the lookup goes on
up, for a farther ``.env`` that the nearer one hides. Only then does it hand over here;
``_autoseed`` in ``sys.modules`` marks it done, as site.py reads a venv's ``.pth`` files twice
(CPython #75723). The code of the line that runs only sometimes (the rest of the names' look, a
file's, the hand-over) sits in string constants, compiled only when it runs: compiling is most
of what the line costs. This module hands over to the package; nothing in the package imports
it.
"""

import _thread
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    Path = Sequence[str] | None
    Act = Callable[[str, Path, ModuleType | None], ModuleSpec | None]

ran = False


def run() -> None:
    """The ``.pth`` line's work, for what cannot run a ``.pth`` line: site.py's ``.start`` files
    (PEP 829, Python 3.15+) and ``sitecustomize_example``."""
    try:
        with open(os.path.join(os.path.dirname(__file__), "autoseed.pth")) as file:
            lines = [line for line in file if line.startswith("import")]
    except OSError:
        lines = []
    for line in lines:
        exec(line)
    if not lines:
        hand_over()


def hand_over() -> None:
    """Hand over to the package now; or, where the hash seed needs no restart (a child of a
    seeded process: a DataLoader worker, a rank), at the program's first import, which it
    precedes, so that a process that imports nothing more (a helper's ``python -c``) never pays
    for it."""
    global ran
    if ran:  # once per process, whoever calls
        return
    ran = True
    seed = os.environ.get("PYTHONHASHSEED", "")
    if seed.isdigit() and seed.isascii() and "_AUTOSEED_HANDOVER" not in os.environ:
        sys.meta_path.insert(0, _AtFirstImport(_start_and_find))
    else:
        _start()


def _start() -> None:
    try:
        try:
            from autoseed.start import start
        except ImportError:
            if any(name.startswith("AUTOSEED") for name in os.environ):
                sys.meta_path.insert(0, _AtFirstImport(_unimportable, ("numpy", "torch")))
            return
        start(os.environ)
    except (Exception, SystemExit) as exc:  # never end, nor break, an unrelated program
        _say(f"start-up hook failed and did nothing: {type(exc).__name__}: {exc}")


def _start_and_find(name: str, path: "Path", target: "ModuleType | None") -> "ModuleSpec | None":
    _start()
    hook = sys.modules.get("autoseed.hook")  # what the start put in place watches this import
    return None if hook is None else hook.find_spec(name, path, target)


def _unimportable(name: str, path: "Path", target: "ModuleType | None") -> None:
    told = os.environ.get("_AUTOSEED_TOLD", "")
    if "unimportable" not in told.split():  # once per job: children inherit the variable
        os.environ["_AUTOSEED_TOLD"] = f"{told} unimportable".strip()
        _say(
            f"AUTOSEED is set but {sys.executable} cannot import autoseed, so nothing was "
            f"seeded; install autoseed for it, or remove {os.path.dirname(__file__)}/autoseed.pth"
        )


def _say(message: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"autoseed: {message}\n")


class _AtFirstImport:
    """Acts once: at the first import of one of ``names``, if given; else at the program's
    first import once site.py is done (what other .pth files and sitecustomize import does not
    count), or at the first import of a library autoseed seeds, whoever imports it."""

    def __init__(self, act: "Act", names: "tuple[str, ...]" = ()) -> None:
        self.act, self.names, self.lock = act, names, _thread.allocate_lock()

    def find_spec(
        self, name: str, path: "Path" = None, target: "ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if self.names:
            if name not in self.names:
                return None
        elif name not in ("random", "numpy", "torch"):
            site = getattr(sys.modules.get("site"), "__spec__", None)
            if getattr(site, "_initializing", False):
                return None
        with self.lock:  # a second thread's import waits for the first to finish acting
            if self not in sys.meta_path:
                return None
            sys.meta_path.remove(self)
            try:
                return self.act(name, path, target)
            except Exception as exc:  # inside the program's import: report, never raise
                _say(f"start-up hook failed and did nothing: {type(exc).__name__}: {exc}")
                return None
