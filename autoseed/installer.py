"""``autoseed install`` / ``uninstall``: write or remove the start-up files by hand.

For layouts where pip did not place them: a source checkout on PYTHONPATH, a user site, a
system interpreter. Only files whose content is exactly autoseed's are ever removed.

The wheel's ``autoseed.pth`` imports autoseed directly: pip puts the package beside it. A file
written here may be read by interpreters that cannot import autoseed (the base interpreter
reading a user site that a venv's autoseed wrote into; a checkout that left PYTHONPATH), where
that line would make site.py print a traceback at every start: the line written here guards
itself and does nothing when autoseed is not importable.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig

from autoseed._startup import warn

# The same bytes as autoseed/startup_files/, which the wheel puts at the root of site-packages
# (a test holds the two equal).
WHEEL_START_FILES = {
    "autoseed.pth": "import autoseed._startup; autoseed._startup.run()\n",
    "autoseed.start": "autoseed._startup:run\n",
}
# What `autoseed install` writes. site.py executes only lines that start with "import"; the
# exec string compiles in microseconds. PEP 829's .start entry (Python 3.15+) cannot guard itself.
START_FILES = {
    "autoseed.pth": (
        'import sys; exec("try:\\n import autoseed._startup as s\\nexcept ImportError:\\n pass'
        '\\nelse:\\n s.run()")\n'
    ),
    "autoseed.start": WHEEL_START_FILES["autoseed.start"],
}
NON_SITE_FLAG = "--any-directory"


def site_directories() -> list[str]:
    """Every directory whose .pth files this interpreter reads at start-up."""
    directories = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        directories.append(site.getusersitepackages())
    purelib = sysconfig.get_paths()["purelib"]
    if purelib not in directories:
        directories.append(purelib)
    return directories


def site_directory(*, user: bool, target: str | None) -> str:
    if target is not None:
        return os.path.abspath(target)
    if user:
        return site.getusersitepackages()
    return sysconfig.get_paths()["purelib"]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def install(directory: str, *, create: bool = False, any_directory: bool = False) -> int:
    """Write the start-up files into ``directory``; idempotent.

    A directory this interpreter's site.py does not read is refused unless ``any_directory``:
    writing there would print "installed" and do nothing.
    """
    site_dirs = site_directories()
    if not any_directory and os.path.normcase(directory) not in map(os.path.normcase, site_dirs):
        warn(
            f"install: {directory} is not a site directory of this interpreter "
            f"({sys.executable}), so nothing would read the .pth written there; its site "
            f"directories are {', '.join(site_dirs)}. Pass {NON_SITE_FLAG} to write there "
            "anyway (for a directory that another interpreter reads)"
        )
        return 1
    if create:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            warn(f"install: cannot create {directory} ({error.strerror or error})")
            return 1
    if not os.path.isdir(directory):
        warn(f"install: {directory} is not a directory; give an existing site directory")
        return 1
    for name, content in START_FILES.items():
        path = os.path.join(directory, name)
        if _read(path) == content:
            print(f"already installed: {path}")
            continue
        partial = f"{path}.{os.getpid()}.tmp"
        try:
            with open(partial, "w", encoding="utf-8") as file:
                file.write(content)
            os.replace(partial, path)  # never leave a half-written .pth for site.py to read
        except OSError as error:
            warn(f"install: cannot write {path} ({error.strerror or error})")
            if os.path.exists(partial):
                os.remove(partial)
            return 1
        print(f"installed: {path}")
    return 0


def uninstall(directory: str) -> int:
    """Remove the start-up files from ``directory`` when autoseed wrote them."""
    removed = 0
    for name, content in START_FILES.items():
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            continue
        if _read(path) not in (content, WHEEL_START_FILES[name]):
            warn(f"uninstall: {path} was not written by autoseed; left alone")
            continue
        try:
            os.remove(path)
        except OSError as error:
            warn(f"uninstall: cannot remove {path} ({error.strerror or error})")
            return 1
        print(f"removed: {path}")
        removed += 1
    if not removed:
        print(f"nothing to remove in {directory}")
    return 0
