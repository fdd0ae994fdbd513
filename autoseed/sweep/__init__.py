"""Seed sweeps: one untouched command under many seeds, and the spread of its results.

Door: ``folder.py`` (``open_sweep``, ``load_sweep``): the sweep's directory, which records
everything a report needs. One module per engine runs the seeds (``local.py``, ``ray.py``,
imported only when chosen); ``report.py`` reads the folder alone and summarises it.
"""
