"""``python -m tenancy``: the same entry point as the ``tenancy`` console script."""

import sys

from tenancy.cli import main

sys.exit(main())
