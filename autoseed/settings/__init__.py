"""The settings: the environment and the ``.env`` that applies, turned into one plan.

Door: ``sources.py`` (``resolve_environment``), which collects the settings and where each
came from. ``plan.py`` turns them into a ``SeedPlan`` (pure: one parser per kind of value);
``env_file.py`` reads the ``.env`` once (owner, encoding, size), ``dotenv_syntax.py`` finds
its bindings that can be settings; ``notices.py`` holds what could not be used until the first
import of numpy or torch, where it is said.
"""
