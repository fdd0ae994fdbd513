"""Verification: run a command more than once and compare, and say why runs differ.

Door: ``verdict.py`` (``verify``, behind ``autoseed verify``). ``across.py`` is the door of
``--save`` and ``--against``: a reference saved on one machine, checked on another, with the
fingerprints of both (``autoseed/record/``). ``runs.py`` runs a command once and compares
outputs (the sweep uses it too); ``explain.py`` compares traced runs and, where
they name no cause, tries the fixes autoseed knows; in those runs ``trace.py`` records torch's
operators, ``outside.py`` the reads of the clock and the OS's entropy, and ``writes.py`` what
each process wrote.
"""
