"""Resume equals uninterrupted (``AUTOSEED_RESUME``): random states saved beside each
checkpoint and restored when a run resumes from it.

Door: ``checkpoints.py`` (``watch_checkpoints``, ``watch_lightning``), which wraps
``torch.save``/``torch.load`` and Lightning's checkpoint IO; ``random_state.py`` captures and
restores the process's random state as plain JSON.
"""
