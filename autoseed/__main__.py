"""``python -m autoseed``: the autoseed command."""

import sys

from autoseed.cli import main

sys.exit(main())
