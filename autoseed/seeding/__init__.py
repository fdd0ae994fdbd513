"""The seeding: the plan applied to each library at its first import.

Door: ``libraries.py`` (``apply_plan``, ``seed_everything``): what seeding each library means
(third parties' too), and the one path behind the start-up hook and the API. ``calls.py`` wraps
the libraries' own seeding calls, so that fresh-entropy requests get derived seeds and explicit
ones can follow ``AUTOSEED_OVERRIDE``; ``streams.py`` derives those seeds (per request, per
forked or spawned child, per DataLoader worker); ``ranks.py`` sees a process join a process
group, from which it draws as that rank; ``ledger.py`` records every seeding call with its
FILE:LINE. ``portable.py`` (``AUTOSEED_PORTABLE``, imported only when on) pins what makes the
bits depend on the machine: threads and CPU levels, put into the environment before numpy and
torch load; ``pins_in_force`` says which pins hold and who set each.
"""
