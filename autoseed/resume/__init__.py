"""Resume equals uninterrupted (``AUTOSEED_RESUME``): random states saved beside each
checkpoint and restored when a run resumes from it.

Door: ``checkpoints.py`` (``watch_checkpoints``, ``watch_lightning``), which wraps
``torch.save``/``torch.load`` and Lightning's checkpoint IO. ``random_state.py`` captures,
checks and restores the process's random state as plain JSON; ``record_file.py`` reads and
writes the record beside a checkpoint, as untrusted data; ``rebuild.py`` restores again while
the script rebuilds what the checkpoint overwrites; ``loaders.py`` follows the DataLoaders
(persistent workers, a save in the middle of an epoch).
"""
