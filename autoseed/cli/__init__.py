"""The ``autoseed`` command.

Door: ``main.py`` (``main``, ``entry_point``): the parser and one function per command, each
handing over to its stage.
"""
