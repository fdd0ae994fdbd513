"""The start: what the gate (``_autoseed_startup.py``) hands over to, in a process where
something might ask for autoseed.

Door: ``entry.py`` (``start``), which reads the environment and the ``.env`` that applies,
restarts the interpreter once for its hash seed (``restart.py``, before anything heavier is
imported) and activates the plan (``activation.py``). ``files.py`` writes and removes the
start-up files themselves (``autoseed install``); ``status.py`` says what the start does in
this interpreter, and why (``autoseed status``, ``%autoseed``).
"""
