"""Opaque keyset cursors over panels, newest first (the order of ``GET /v1/panels``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from spaps_ops import ProblemError

#: The largest page ``Clinic.panels(first:)`` serves (``GET /v1/panels``' ``limit`` too).
MAX_PAGE = 100


def invalid_argument(detail: str) -> ProblemError:
    """A refused argument: spaps-ops' 422 ``ops.validation_failed``, as REST answers a
    query parameter out of bounds (no new code to register)."""
    return ProblemError(
        status=422, code="ops.validation_failed", title="Validation failed", detail=detail
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: after the panel created at ``created_at`` with id ``panel_id``."""

    created_at: datetime
    panel_id: str

    def encode(self) -> str:
        """The cursor: base64 of ``<created_at ISO>|<id>`` (clients must not parse it)."""
        raw = f"{self.created_at.astimezone(UTC).isoformat()}|{self.panel_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> Position:
        """Read a cursor :meth:`encode` made.

        Raises:
            ProblemError: 422 ``ops.validation_failed`` for anything else.
        """
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
            moment, panel_id = raw.split("|", 1)
            created_at = datetime.fromisoformat(moment)
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise invalid_argument("after: not a cursor this API returned") from exc
        if created_at.tzinfo is None or not 0 < len(panel_id) <= 64:
            raise invalid_argument("after: not a cursor this API returned")
        return cls(created_at.astimezone(UTC), panel_id)


def page_size(first: int) -> int:
    """Check ``first`` (1..:data:`MAX_PAGE`, as REST's ``limit``).

    Raises:
        ProblemError: 422 ``ops.validation_failed`` out of bounds.
    """
    if not 1 <= first <= MAX_PAGE:
        raise invalid_argument(f"first: must be between 1 and {MAX_PAGE}, got {first}")
    return first
