"""``autoseed install`` / ``uninstall``: write or remove the start-up files by hand.

For layouts where pip did not place them: a source checkout on PYTHONPATH, a user site, a
system interpreter. Only files whose content is exactly autoseed's are ever removed.

The files are the wheel's: ``autoseed.pth``, ``autoseed.start`` and the gate they run,
``_autoseed_startup.py``, all three side by side, so that the ``.pth`` line always imports. A
directory may be read by interpreters that cannot import autoseed (the base interpreter
reading a user site that a venv's autoseed wrote into; a checkout that left PYTHONPATH): there
the gate says so in one line, at the first import of numpy or torch, when ``AUTOSEED`` is set.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig

from autoseed.names import PACKAGE_DIRECTORY, warn

_PACKAGE = PACKAGE_DIRECTORY
# In a source tree (and an editable install) the files lie beside this module, in
# startup_files/; an installed wheel has them at the root of site-packages, beside the package.
_WHERE_START_FILES_LIE = (
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "startup_files"),
    os.path.dirname(_PACKAGE),
)
START_FILE_NAMES = ("autoseed.pth", "autoseed.start", "_autoseed_startup.py")
# What `autoseed install` wrote before the gate left the package: removed by uninstall too.
EARLIER_CONTENTS = {
    "autoseed.pth": (
        "import autoseed._startup; autoseed._startup.run()\n",
        'import sys; exec("try:\\n import autoseed._startup as s\\nexcept ImportError:\\n pass'
        '\\nelse:\\n s.run()")\n',
    ),
    "autoseed.start": ("autoseed._startup:run\n",),
}


def start_file_contents() -> dict[str, str]:
    """The start-up files as the wheel places them at the root of site-packages."""
    for directory in _WHERE_START_FILES_LIE:
        contents = {name: _read(os.path.join(directory, name)) for name in START_FILE_NAMES}
        if None not in contents.values():
            return {name: content or "" for name, content in contents.items()}
    raise FileNotFoundError(f"autoseed's start-up files are in none of {_WHERE_START_FILES_LIE}")


def _start_files_for(command: str) -> dict[str, str] | None:
    try:
        return start_file_contents()
    except FileNotFoundError as error:
        warn(f"{command}: {error}; reinstall autoseed")
        return None


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


def install(directory: str, *, user: bool = False, any_directory: bool = False) -> int:
    """Write the start-up files into ``directory``; idempotent.

    A directory this interpreter's site.py does not read is refused unless ``any_directory``:
    writing there would print "installed" and do nothing. ``--user`` from a virtual environment
    is refused: the user site is read by every interpreter of that Python version the user
    runs, which ``--target`` with the user site says explicitly.
    """
    version = ".".join(map(str, sys.version_info[:2]))
    reach = (
        f"{directory} is read by every interpreter of Python {version} that this user runs "
        f"(the base interpreter {getattr(sys, '_base_executable', sys.executable)} and each of "
        "its --system-site-packages virtual environments)"
    )
    if user and sys.prefix != sys.base_prefix:
        warn(
            f"install --user: {reach}, not by this virtual environment alone; install into it "
            f"with `autoseed install`, or give --target {directory} to mean all of them"
        )
        return 1
    site_dirs = site_directories()
    if not any_directory and os.path.normcase(directory) not in map(os.path.normcase, site_dirs):
        warn(
            f"install: {directory} is not a site directory of this interpreter "
            f"({sys.executable}), so nothing would read the .pth written there; its site "
            f"directories are {', '.join(site_dirs)}. Pass {NON_SITE_FLAG} to write there "
            "anyway (for a directory that another interpreter reads)"
        )
        return 1
    if user:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            warn(f"install: cannot create {directory} ({error.strerror or error})")
            return 1
    if not os.path.isdir(directory):
        warn(f"install: {directory} is not a directory; give an existing site directory")
        return 1
    contents = _start_files_for("install")
    if contents is None:
        return 1
    for name, content in contents.items():
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
    if user:
        print(f"note: {reach}")
    return 0


def uninstall(directory: str) -> int:
    """Remove the start-up files from ``directory`` when autoseed wrote them."""
    removed = 0
    contents = _start_files_for("uninstall")
    if contents is None:
        return 1
    for name, content in contents.items():
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            continue
        if _read(path) not in (content, *EARLIER_CONTENTS.get(name, ())):
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
