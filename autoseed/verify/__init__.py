"""Verification: run a command more than once and compare, and say why runs differ.

Door: ``verdict.py`` (``verify``, behind ``autoseed verify``). ``runs.py`` runs a command once
and compares outputs (the sweep uses it too); ``explain.py`` tries the fixes autoseed knows and
compares traced runs; ``trace.py`` records torch's operators in those runs and ``outside.py``
the reads of the clock and the OS's entropy.
"""
