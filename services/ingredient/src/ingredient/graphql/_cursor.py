"""Opaque search cursors: a position in the ranked results, base64url-encoded.

The position is what REST's ``offset`` pages by; the prefix lets a later version change
the encoding and still refuse old cursors clearly.
"""

from __future__ import annotations

import base64
import binascii

from ingredient.errors import InvalidQueryError

_PREFIX = "search:v1:"
#: As REST's ``offset``: positions past it are refused.
MAX_POSITION = 1_000_000


def encode_cursor(position: int) -> str:
    """The cursor of the result at ``position`` (0-based) in the ranked results."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The position a cursor of :func:`encode_cursor` names.

    Raises:
        InvalidQueryError: not a cursor this API gave out.
    """
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    digits = text.removeprefix(_PREFIX)
    # isdecimal() and the length bound refuse signs, spaces and non-ASCII digits
    if text == digits or not digits.isdecimal() or len(digits) > 7 or int(digits) > MAX_POSITION:
        raise InvalidQueryError("`after` is not a cursor this API gave out")
    return int(digits)
