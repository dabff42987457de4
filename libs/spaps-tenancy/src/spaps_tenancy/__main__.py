"""``python -m spaps_tenancy``: see :func:`spaps_tenancy._cli.main`."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
