"""Single-use recovery codes of the TOTP factor, stored as SHA-256 of the normalised code."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import sha256_hex
from ._errors import InvalidOtpError
from ._tables import recovery_codes

__all__ = ["replace_recovery_codes", "use_recovery_code"]

_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def _normalise_code(code: str) -> str:
    # Codes are shown as xxxx-xxxx-xxxx-xxxx: accept any case, with or without dashes.
    return "".join(c for c in code.lower() if c.isalnum())


def _digest(user_id: str, code: str) -> str:
    return sha256_hex(f"{user_id}:{_normalise_code(code)}")


async def replace_recovery_codes(engine: AsyncEngine, user_id: str, *, count: int) -> list[str]:
    """Replace ``user_id``'s codes with ``count`` new 80-bit ones; returns them."""
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(count)
    ]
    async with engine.begin() as conn:
        await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        await conn.execute(
            insert(recovery_codes),
            [{"user_id": user_id, "code_hash": _digest(user_id, c)} for c in codes],
        )
    return codes


async def use_recovery_code(engine: AsyncEngine, user_id: str, code: str, *, now: datetime) -> int:
    """Consume one unused code of ``user_id``; returns how many unused codes remain.

    Raises:
        InvalidOtpError: Unknown or already used code.
    """
    async with engine.begin() as conn:
        result = await conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == _digest(user_id, code),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:
            raise InvalidOtpError("invalid recovery code")
        remaining = await conn.scalar(
            select(func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
        )
    return int(remaining or 0)
