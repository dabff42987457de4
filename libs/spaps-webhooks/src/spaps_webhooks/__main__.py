"""``python -m spaps_webhooks rotate-secrets ...`` (see :mod:`spaps_webhooks._cli`)."""

import sys

from ._cli import main

sys.exit(main())
