"""The record: what decides a run's bits on this machine, and what a run was.

Door: ``fingerprint.py`` (``take_fingerprint``): the CPU and the ISA torch dispatches to, the
threads, the BLAS libraries, the versions, the GPUs, the pins in force, and the digests of a
small fixed probe (``probe.py``); ``differences.py`` names the fields in which two fingerprints
differ and what ``AUTOSEED_PORTABLE`` would do about them. ``manifest.py`` writes what a seeded
process was (``AUTOSEED_MANIFEST``) when it ends. ``data_file.py`` reads and writes their files
as data from disk, and reads resume's records. ``verify``, ``resume`` and the manifest writer
read this stage; it reads the seeding and the settings below it.
"""
