"""The ``autoseed`` command.

Door: ``main.py`` (``main``, ``entry_point``): the parser, and the short commands (status,
run, install, uninstall). ``verify.py``, ``sweep.py`` and ``fingerprint.py`` hold those
commands' options and hand over to their stages; ``conventions.py`` is what every command
shares (examples in the help, the command after ``--``, usage errors, stopping on Ctrl-C and
SIGTERM).
"""
