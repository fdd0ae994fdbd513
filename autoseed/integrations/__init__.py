"""Integrations: autoseed where other tools run the code.

``pytest_plugin.py`` (the ``pytest11`` entry point: each test reseeded from the seed and its
id), ``ipython.py`` (a fresh seed before a notebook's first cell, ``%autoseed``),
``launcher.py`` (``autoseed run``: a command started seeded, with its hash seed fixed; with
``interpreters.py``, which names a launcher whose interpreter has no autoseed) and
``mlflow.py`` and ``wandb.py`` (the seed and the settings in each run ``mlflow.start_run`` or
``wandb.init`` starts, from what ``run_facts.py`` says of the process). Each is its own door,
entered only by the tool it serves.
"""
