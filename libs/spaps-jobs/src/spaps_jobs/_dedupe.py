"""One dedupe design for outbox ids, the inbox and HTTP idempotency keys.

A *claim* is a record under a key with a lease: the first caller of
:meth:`~DedupeStore.claim` owns the key until the lease ends; it then either
:meth:`~DedupeStore.complete`\\ s the key (storing a result kept for ``ttl`` seconds) or
:meth:`~DedupeStore.release`\\ s it so a retry can claim it again. A crashed owner never
completes nor releases: the lease expires and the next delivery claims the key again,
which is what makes at-least-once delivery safe.

This module holds the contract (the record and the two protocols) and the table; the
SQL stores are in ``_dedupe_sql``, the Redis ones in ``_dedupe_redis``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import Boolean, Column, Float, LargeBinary, MetaData, String, Table

__all__ = ["AsyncDedupeStore", "DedupeRecord", "DedupeStore"]

MAX_KEY_LENGTH = 512


@dataclass(frozen=True, slots=True)
class DedupeRecord:
    """What a store holds under a key.

    Args:
        key: The key as given to the store.
        done: ``False`` while the claim is in progress, ``True`` once completed.
        fingerprint: Whatever the claimer passed to tell requests apart (e.g. a body hash).
        result: The bytes given to ``complete`` (``None`` while in progress).
        expires_at: Unix time when the record disappears (end of lease or of the TTL).
    """

    key: str
    done: bool
    fingerprint: str
    result: bytes | None
    expires_at: float


@runtime_checkable
class DedupeStore(Protocol):
    """Synchronous claim/complete/release store (Celery tasks, relays, CLIs)."""

    def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""

    def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""

    def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""

    def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""


@runtime_checkable
class AsyncDedupeStore(Protocol):
    """The asyncio twin of :class:`DedupeStore` (HTTP middleware, async consumers)."""

    async def claim(self, key: str, ttl: float, *, fingerprint: str = "") -> bool:
        """Claim ``key`` for ``ttl`` seconds; ``True`` if this caller now owns it."""

    async def get(self, key: str) -> DedupeRecord | None:
        """The live record under ``key``, or ``None``."""

    async def complete(self, key: str, result: bytes = b"", *, ttl: float) -> None:
        """Mark ``key`` done and keep ``result`` for ``ttl`` seconds."""

    async def release(self, key: str) -> None:
        """Drop an in-progress claim so the key can be claimed again."""


def check_key(key: str, ttl: float | None = None) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError("dedupe key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"dedupe key longer than {MAX_KEY_LENGTH} characters")
    if ttl is not None and not ttl > 0:
        raise ValueError("ttl must be a positive number of seconds")


def dedupe_table(metadata: MetaData, name: str = "spaps_dedupe") -> Table:
    """Define the dedupe table on ``metadata`` (so Alembic autogenerate sees it).

    Args:
        metadata: The caller's SQLAlchemy ``MetaData``.
        name: Table name.
    """
    return Table(
        name,
        metadata,
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("done", Boolean, nullable=False, default=False),
        Column("fingerprint", String(128), nullable=False, default=""),
        Column("result", LargeBinary, nullable=True),
        Column("expires_at", Float, nullable=False, index=True),
    )
