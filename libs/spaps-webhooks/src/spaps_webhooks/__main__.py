"""``python -m spaps_webhooks rotate-secrets ...`` (see :mod:`spaps_webhooks._cli`)."""

from ._cli import main

if __name__ == "__main__":  # importing the module (as the stand-alone check does) runs nothing
    raise SystemExit(main())
