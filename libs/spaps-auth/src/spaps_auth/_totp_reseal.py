"""Sealing TOTP secrets at rest: the associated data, and re-sealing stored rows in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ._sealing import SecretSealer
from ._tables import totp_secrets

__all__ = ["Progress", "reseal_secrets", "secrets_to_reseal", "totp_secret_aad"]

#: Called with the number of rows handled after each batch (e.g. ``click``'s ``bar.update``).
Progress = Callable[[int], object]


def totp_secret_aad(user_id: str) -> bytes:
    """The associated data a user's TOTP secret is sealed with (binds it to the user).

    Migrations that seal or unseal ``auth_totp`` rows themselves use it with
    :meth:`SecretSealer.seal` / :meth:`SecretSealer.open`.

    .. versionadded:: 0.3.0
    """
    return b"spaps-auth/totp\x1f" + user_id.encode()


def _stale(sealer: SecretSealer) -> object:
    # Plaintext rows, and rows sealed under another key, do not start with this prefix.
    current = f"s1:{sealer.primary_key_id}:"
    return ~totp_secrets.c.secret.startswith(current, autoescape=True)


async def secrets_to_reseal(
    engine: AsyncEngine, sealer: SecretSealer, *, limit: int | None = None
) -> Sequence[Row[Any, Any]]:
    """``(user_id, secret)`` of rows not sealed under the primary key."""
    stmt = (
        select(totp_secrets.c.user_id, totp_secrets.c.secret)
        .where(_stale(sealer))  # type: ignore[arg-type]  # a SQL expression
        .order_by(totp_secrets.c.user_id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).all()


async def reseal_secrets(
    engine: AsyncEngine, sealer: SecretSealer, *, batch_size: int, progress: Progress | None
) -> int:
    """Re-seal stale rows ``batch_size`` at a time; returns how many were re-sealed."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    done = 0
    while rows := await secrets_to_reseal(engine, sealer, limit=batch_size):
        async with engine.begin() as conn:
            for row in rows:
                user_id, stored = str(row.user_id), str(row.secret)
                new = sealer.reseal(stored, aad=totp_secret_aad(user_id))
                # Conditional: a secret changed meanwhile (re-enrolment) is left alone;
                # it is sealed under the primary key already.
                await conn.execute(
                    update(totp_secrets)
                    .where(totp_secrets.c.user_id == user_id, totp_secrets.c.secret == stored)
                    .values(secret=new)
                )
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    return done
