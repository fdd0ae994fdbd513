"""``autoseed install`` / ``uninstall``: write or remove the start-up files by hand.

For layouts where pip did not place them: a source checkout on PYTHONPATH, a user site, a
system interpreter. Only files whose content is exactly autoseed's are ever removed.
"""

from __future__ import annotations

import os
import site
import sysconfig

from autoseed._startup import warn

# The same bytes as autoseed/startup_files/, which the wheel puts at the root of site-packages
# (a test holds the two equal).
START_FILES = {
    "autoseed.pth": "import autoseed._startup; autoseed._startup.run()\n",
    "autoseed.start": "autoseed._startup:run\n",
}


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


def install(directory: str, *, create: bool = False) -> int:
    """Write the start-up files into ``directory``; idempotent."""
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
    if os.path.normcase(directory) not in map(os.path.normcase, site_directories()):
        warn(
            f"note: {directory} is not a site directory of this interpreter; "
            "site.py reads .pth files only from those"
        )
    return 0


def uninstall(directory: str) -> int:
    """Remove the start-up files from ``directory`` when autoseed wrote them."""
    removed = 0
    for name, content in START_FILES.items():
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            continue
        if _read(path) != content:
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
