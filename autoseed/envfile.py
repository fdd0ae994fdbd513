"""Read the ``AUTOSEED*`` settings of a ``.env`` file with python-dotenv's parser, and no others.

The rest of a project's ``.env`` (secrets) is never put into ``os.environ``, and values are only
parsed: no ``${VAR}`` expansion, no command substitution, nothing imported.
"""

from __future__ import annotations

import io

from dotenv.parser import parse_stream

from autoseed._startup import ENV_FILE_READ_LIMIT, SETTING_PREFIX, EnvFileHead
from autoseed.config import Setting


def settings_from_env_file(env_file: EnvFileHead) -> tuple[dict[str, Setting], list[str]]:
    """Return the file's ``AUTOSEED*`` settings and the problems worth telling the user."""
    # utf-8-sig strips a byte-order mark; "replace" turns binary garbage into text that simply
    # fails to parse instead of raising.
    text = env_file.data.decode("utf-8-sig", errors="replace")
    settings: dict[str, Setting] = {}
    problems: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        where = f"{env_file.path}, line {binding.original.line}"
        if binding.error:
            # Other lines of the file are not ours to judge.
            if SETTING_PREFIX in binding.original.string:
                problems.append(
                    f"could not parse {where}: {binding.original.string.strip()!r}; "
                    "the line is ignored"
                )
            continue
        if binding.key is not None and binding.key.startswith(SETTING_PREFIX):
            settings[binding.key] = Setting(binding.key, binding.value or "", where)
    if env_file.truncated:
        problems.append(
            f"{env_file.path} is larger than {ENV_FILE_READ_LIMIT >> 20} MiB; "
            "only its first MiB was read"
        )
    return settings, problems
