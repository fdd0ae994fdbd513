"""autoseed's start-up hook for interpreters where ``autoseed.pth`` cannot be installed.

For a read-only system site-packages or a cluster set-up that only extends PYTHONPATH: put this
folder on ``PYTHONPATH`` and autoseed activates exactly as the ``.pth`` would make it. Any other
``sitecustomize`` further along ``sys.path`` still runs afterwards: this one never shadows it.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType


def _run_autoseed() -> None:
    """Run autoseed's start-up gate, as the ``.pth`` line does: from site-packages where autoseed
    is installed, else from the package's own start-up files (a checkout on PYTHONPATH)."""
    try:
        import _autoseed_startup as gate
    except ImportError:
        gate = _gate_in_the_package()
    if gate is None:
        if any(key.startswith("AUTOSEED") for key in os.environ):
            sys.stderr.write(
                "autoseed: AUTOSEED is set but autoseed is not importable by "
                f"{sys.executable}; nothing was seeded\n"
            )
        return
    gate.run()


def _gate_in_the_package() -> ModuleType | None:
    from importlib.util import find_spec, module_from_spec, spec_from_file_location

    package = find_spec("autoseed")
    for directory in (package and package.submodule_search_locations) or ():
        path = os.path.join(directory, "start", "startup_files", "_autoseed_startup.py")
        spec = spec_from_file_location("_autoseed_startup", path)
        if spec is not None and spec.loader is not None and os.path.isfile(path):
            gate = module_from_spec(spec)
            sys.modules["_autoseed_startup"] = gate  # where `autoseed status` looks for it
            spec.loader.exec_module(gate)
            return gate
    return None


def _run_next_sitecustomize() -> None:
    """Execute the ``sitecustomize`` this module hides, and let it take the name."""
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec

    here = os.path.dirname(os.path.abspath(__file__))
    entries = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    later = sys.path[entries.index(here) + 1 :] if here in entries else sys.path
    spec = PathFinder.find_spec("sitecustomize", [entry for entry in later if entry != here])
    if spec is None or spec.loader is None:
        return
    module = module_from_spec(spec)
    # site.py binds whatever sys.modules holds once this import finishes: the user's module.
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_run_autoseed()
_run_next_sitecustomize()
