"""The ledger: every call that seeded a generator in this process, with its value and FILE:LINE.

The wrapped seeding calls (``calls.py``) write to it; it answers three readers.
``AUTOSEED_VERBOSE=1`` prints each call once (autoseed's own are printed as "seeded X with N"
lines already). The pytest plugin and the notebook reseed ask whether the user's code seeded a
library's global generator after autoseed last did, so that autoseed never reseeds over it.
``verify --explain``'s traced runs have each call written to a file, one line per call
(:func:`write_lines_with`), and compare the runs.
"""

import os
import sys

from autoseed.names import PACKAGE_DIRECTORY, warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

AUTOSEED = "autoseed"  # seeded by autoseed itself
EXPLICIT = "explicit"  # a value the code gave
DERIVED = "derived"  # a request for fresh entropy, given a seed derived by autoseed
OVERRIDDEN = "overridden"  # an explicit value replaced under AUTOSEED_OVERRIDE
FROM_THE_OS = "os"  # fresh entropy that the OS gave, which no seed controls
LEDGER_SUFFIX = ".seeds"
KEPT_CALLS = 1000  # a script seeding in a loop keeps the first calls, and a count
# Tools that reseed around every test on the user's behalf: their seeds are not the user's.
TOOL_RESEEDERS = ("pytest_randomly",)
_PACKAGE_DIRECTORY = os.path.join(PACKAGE_DIRECTORY, "")
_STANDARD_LIBRARY = os.path.join(os.path.dirname(os.__file__), "")
_INSTALLED = ("site-packages", "dist-packages")
# Packages that call the seeding functions on the script's behalf (Lightning's and Hugging
# Face's seed_everything/set_seed, numpy's legacy seeding) or stand between the script and them
# (once torch.optim is imported, torch._dynamo wraps torch.manual_seed in a frame of its own):
# the line a user needs is the first frame outside them.
LIBRARIES = (
    "torch", "numpy", "lightning", "pytorch_lightning", "lightning_fabric", "transformers",
    "accelerate",
)  # fmt: skip


class SeedCall:
    """One seeding call: the API, the value, where from, and whose (``origin``)."""

    __slots__ = ("api", "value", "where", "origin", "replaced")

    def __init__(
        self, api: str, value: "Any", where: str, origin: str, replaced: "Any" = None
    ) -> None:
        self.api = api
        self.value = value
        self.where = where
        self.origin = origin
        self.replaced = replaced  # the code's own value, under AUTOSEED_OVERRIDE

    def line(self) -> str:
        return f"{self.api}\t{self.value}\t{self.where}\t{self.origin}"

    def __repr__(self) -> str:
        return f"SeedCall({self.api!r}, {self.value!r}, {self.where!r}, {self.origin!r})"


_calls: "list[SeedCall]" = []
_dropped = 0
_said: "set[tuple[str, str, str]]" = set()
# Per library ("random", "numpy", "torch"): whether the last seeding of its global generator
# was autoseed's (True) or the code's (False).
_last_by_autoseed: "dict[str, bool]" = {}
_autoseed_seeding = 0
_verbose = False
_writers: "list[Callable[[str], None]]" = []


def set_verbose(verbose: bool) -> None:
    global _verbose
    _verbose = verbose


class seeding_by_autoseed:
    """While active, seeding calls are autoseed's own (its seeders call the same APIs)."""

    def __enter__(self) -> None:
        global _autoseed_seeding
        _autoseed_seeding += 1

    def __exit__(self, *_: object) -> None:
        global _autoseed_seeding
        _autoseed_seeding -= 1


def caller(skipped: "tuple[str, ...]" = ()) -> "tuple[str, int]":
    """The line that made the call: the innermost frame outside autoseed and the files
    ``skipped`` (the seeding library's own, which call themselves), or, where that frame is a
    library's, the first frame outside the libraries. Where that one is the standard library's
    or there is none (a DataLoader worker's loop, which no line of the script called), the
    library's own line."""
    frame = sys._getframe(1)
    innermost: tuple[str, int] | None = None
    libraries = _library_directories()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIRECTORY) and not filename.endswith(skipped):
            here = (filename, frame.f_lineno)
            if innermost is None and not any(part in filename for part in _PASS_THROUGH):
                innermost = here
            if not filename.startswith(libraries):
                return (innermost or here) if from_standard_library(filename) else here
        frame = frame.f_back  # type: ignore[assignment]
    return innermost or ("?", 0)


# torch._dynamo wraps torch's functions in frames of its own once torch.optim is imported
# (torch/_compile.py's and torch/_dynamo/'s wrappers): such a frame passes a call on, and is
# never the line that made it.
_PASS_THROUGH = (
    os.path.join(os.sep + "torch", "_dynamo", ""),
    os.path.join(os.sep + "torch", "_compile.py"),
)


def _library_directories() -> "tuple[str, ...]":
    """The folders of the ``LIBRARIES`` imported so far."""
    found = []
    for name in LIBRARIES:
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            found.append(os.path.join(os.path.dirname(path), ""))
    return tuple(found)


def from_standard_library(filename: str) -> bool:
    """Whether ``filename`` is the standard library's (importlib's frozen modules included),
    not a package installed beside it."""
    if filename.startswith("<frozen "):
        return True
    if not filename.startswith(_STANDARD_LIBRARY):
        return False
    return filename[len(_STANDARD_LIBRARY) :].split(os.sep, 1)[0] not in _INSTALLED


def autoseed_is_seeding() -> bool:
    return bool(_autoseed_seeding)


def record(
    api: str,
    value: "Any",
    where: "tuple[str, int]",
    origin: str,
    library: str = "",
    replaced: "Any" = None,
) -> None:
    """Add one call; ``library`` names the global generator it seeded, if it did."""
    global _dropped
    if _autoseed_seeding:
        origin = AUTOSEED
    filename, line = where
    call = SeedCall(api, value, f"{filename}:{line}", origin, replaced)
    if library:
        mark_seeded(library, filename)
    if len(_calls) < KEPT_CALLS:
        _calls.append(call)
    else:
        _dropped += 1
    if _verbose and origin != AUTOSEED:
        key = (api, str(value), call.where)
        if key not in _said:
            _said.add(key)
            if origin == DERIVED:
                what = f"derived seed {value}"
            elif origin == OVERRIDDEN:
                what = f"{replaced} replaced by {value} (AUTOSEED_OVERRIDE)"
            elif origin == FROM_THE_OS:
                what = f"seeded with {value} from the OS (no seed controls it)"
            else:
                what = f"seeded with {value}"
            warn(f"{api}: {what} at {call.where}")
    if _writers:
        _writers[0](call.line())


def mark_seeded(library: str, filename: str = "") -> None:
    """Note who seeded ``library``'s global generator last: autoseed, or the code."""
    _last_by_autoseed[library] = bool(_autoseed_seeding) or any(
        f"{os.sep}{tool}{os.sep}" in filename for tool in TOOL_RESEEDERS
    )


def seeded_by_code_since_autoseed(library: str) -> bool:
    """Whether the code seeded ``library``'s global generator after autoseed last did."""
    return _last_by_autoseed.get(library) is False


def calls() -> "tuple[SeedCall, ...]":
    """The calls recorded so far, in order (the first ``KEPT_CALLS``)."""
    return tuple(_calls)


def summary(listed: int = 100) -> "dict[str, Any]":
    """The ledger in short, for a run's manifest: how many calls of each origin, and the first
    ``listed`` calls of the code's own (neither autoseed's nor a derived seed)."""
    by_origin: dict[str, int] = {}
    for call in _calls:
        by_origin[call.origin] = by_origin.get(call.origin, 0) + 1
    shown = [call for call in _calls if call.origin not in (AUTOSEED, DERIVED)][:listed]
    return {
        "total": len(_calls) + _dropped,
        "not_kept": _dropped,
        "by_origin": by_origin,
        "calls": [
            {"api": call.api, "value": call.value, "where": call.where, "origin": call.origin}
            for call in shown
        ],
    }


def write_lines_with(writer: "Callable[[str], None]") -> None:
    """From now on, each call is also given to ``writer`` as one line (verify's traced runs
    write them to a file: the caller passes the writer in, so the ledger knows no file)."""
    _writers[:] = [writer]
