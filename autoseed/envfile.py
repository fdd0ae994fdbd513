"""Read the ``AUTOSEED*`` settings of a ``.env`` file with python-dotenv's parser, and no others.

The rest of a project's ``.env`` (secrets) is never put into ``os.environ``, and values are only
parsed: no ``${VAR}`` expansion, no command substitution, nothing imported.
"""

import io
import os
import sys

from autoseed._startup import ENV_FILE_VARIABLE, looks_like_setting
from autoseed.config import SEED_VARIABLE, ConfigError, Setting
from autoseed.envhead import ENV_FILE_READ_LIMIT, EnvFileHead

PRIVATE_PARSER = "autoseed._dotenv_parser"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

    from dotenv.parser import Original


def _dotenv_parser() -> "ModuleType":
    """python-dotenv's parser module, without the rest of python-dotenv.

    ``import dotenv`` imports logging, tempfile, pathlib, urllib and more (about 15 ms that
    every interpreter finding the .env would pay); the parser alone needs only ``re`` and
    ``typing``. It is loaded under a private name, so nothing else sees a partial ``dotenv``.
    The search includes site directories that site.py has not added yet: in a
    ``--system-site-packages`` venv the venv's .pth files run before the system site-packages
    is on sys.path, and pip leaves python-dotenv there when it is already installed.
    """
    loaded = sys.modules.get("dotenv.parser")
    if loaded is not None:
        return loaded
    import site
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec, spec_from_file_location

    search = sys.path + [path for path in site.getsitepackages() if path not in sys.path]
    package = PathFinder.find_spec("dotenv", search)
    for directory in (package and package.submodule_search_locations) or ():
        spec = spec_from_file_location(PRIVATE_PARSER, os.path.join(directory, "parser.py"))
        if spec is not None and spec.loader is not None and os.path.isfile(spec.origin or ""):
            parser = module_from_spec(spec)
            spec.loader.exec_module(parser)
            return parser
    raise ImportError("python-dotenv (autoseed's dependency) is not installed; cannot read .env")


def settings_from_env_file(env_file: EnvFileHead) -> tuple[dict[str, Setting], list[str]]:
    """Return the file's ``AUTOSEED*`` settings and the problems worth telling the user.

    Keys that only look like ours are returned too, to be reported as misspellings. A line that
    sets such a key but cannot be parsed raises :class:`ConfigError`, as an invalid value does:
    skipping it would leave the run silently unseeded.
    """
    # utf-8-sig strips a byte-order mark; "replace" turns binary garbage into text that simply
    # fails to parse instead of raising.
    text = env_file.data.decode("utf-8-sig", errors="replace")
    settings: dict[str, Setting] = {}
    problems: list[str] = []
    for binding in _dotenv_parser().parse_stream(io.StringIO(text)):
        where = f"{env_file.path}, line {_first_line_of(binding.original)}"
        line = binding.original.string.strip()
        if binding.error:
            # Other lines of the file are not ours to judge.
            if looks_like_setting(line.removeprefix("export").lstrip()):
                raise ConfigError(
                    f"{line!r} ({where}) cannot be parsed; expected KEY=VALUE with any quotes "
                    f"closed, e.g. {SEED_VARIABLE}=1024"
                )
            continue
        if binding.key is None or not looks_like_setting(binding.key):
            continue
        if binding.key == ENV_FILE_VARIABLE:
            problems.append(
                f"{ENV_FILE_VARIABLE} in {where} is ignored: it is read from the environment "
                "only (a .env cannot point to another .env)"
            )
            continue
        settings[binding.key] = Setting(binding.key, binding.value or "", where)
    if env_file.truncated:
        problems.append(
            f"{env_file.path} is larger than {ENV_FILE_READ_LIMIT >> 20} MiB; "
            "only its first MiB was read"
        )
    return settings, problems


def _first_line_of(original: "Original") -> int:
    # python-dotenv counts blank lines before a binding as part of it.
    text = original.string
    return original.line + text[: len(text) - len(text.lstrip())].count("\n")
