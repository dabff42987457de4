"""``python -m spaps_jobs``: see :mod:`spaps_jobs._cli`."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
