"""Time helpers shared by the stores (an injectable UTC clock)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Now", "sha256_hex", "utcnow"]

Now = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (microsecond precision)."""
    return datetime.now(UTC)


def sha256_hex(value: str) -> str:
    """Hex SHA-256 of a high-entropy secret (tokens, keys): what is stored at rest."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
