"""The settings: the environment and the ``.env`` that applies, turned into one plan.

Door: ``sources.py`` (``resolve_environment``), which collects the settings and where each
came from. ``plan.py`` turns them into a ``SeedPlan`` (pure: one parser per kind of value);
``env_file.py`` reads the ``.env`` once (owner, encoding, size, the farther one it hides),
``dotenv_syntax.py`` finds its bindings that can be settings, and ``file_values.py`` has
python-dotenv read their values (``${VAR}`` included); ``notices.py`` holds what could not be
used until the first import of numpy or torch, where it is said; ``meanings.py`` says what each
setting does in a plan, in words.
"""
