"""autoseed's start-up hook for interpreters where ``autoseed.pth`` cannot be installed.

For a read-only system site-packages or a cluster set-up that only extends PYTHONPATH: put this
folder on ``PYTHONPATH`` and autoseed activates exactly as the ``.pth`` would make it. Any other
``sitecustomize`` further along ``sys.path`` still runs afterwards: this one never shadows it.
"""

from __future__ import annotations

import os
import sys


def _run_autoseed() -> None:
    try:
        import autoseed._startup
    except ImportError:
        if any(key.startswith("AUTOSEED") for key in os.environ):
            sys.stderr.write(
                "autoseed: AUTOSEED is set but autoseed is not importable by "
                f"{sys.executable}; nothing was seeded\n"
            )
        return
    autoseed._startup.run()


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
