"""Opaque search cursors: a position in the ranked results of one query, base64url-encoded.

The position is what REST's ``offset`` pages by. The cursor also carries a digest of the
query it was given out for, so that ``after`` taken from one search and sent with another
is refused instead of silently skipping into unrelated results. The prefix lets a later
version change the encoding and still refuse old cursors clearly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from ingredient.errors import InvalidQueryError

_PREFIX = "search:v2:"
#: As REST's ``offset``: positions past it are refused.
MAX_POSITION = 1_000_000


def _digest(query: str) -> str:
    return hashlib.blake2b(query.encode(), digest_size=6).hexdigest()


def encode_cursor(query: str, position: int) -> str:
    """The cursor of the result at ``position`` (0-based) in ``query``'s ranked results."""
    text = f"{_PREFIX}{_digest(query)}:{position}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii")


def decode_cursor(query: str, cursor: str) -> int:
    """The position a cursor of :func:`encode_cursor` names in ``query``'s results.

    Raises:
        InvalidQueryError: not a cursor this API gave out, or one given out for another
            query.
    """
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    digest, _, digits = text.removeprefix(_PREFIX).partition(":")
    # isdecimal() and the length bound refuse signs, spaces and non-ASCII digits
    if (
        not text.startswith(_PREFIX)
        or not digits.isdecimal()
        or len(digits) > 7
        or int(digits) > MAX_POSITION
    ):
        raise InvalidQueryError("`after` is not a cursor this API gave out")
    if digest != _digest(query):
        raise InvalidQueryError("`after` is a cursor of another search query")
    return int(digits)
