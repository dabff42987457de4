"""A short built-in list of very common passwords (blocked by the default policy).

The words live in the package data file ``common_passwords.txt``, one casefolded word per
line, read once on first use.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["common_passwords"]

_RESOURCE = "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The built-in list, read from the package on first use."""
    text = files(__package__).joinpath(_RESOURCE).read_text(encoding="utf-8")
    return frozenset(line for line in map(str.strip, text.splitlines()) if line)
