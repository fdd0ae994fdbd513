"""``python -m autoseed``: the autoseed command, with the console script's manners."""

from autoseed.cli.main import entry_point

entry_point()
