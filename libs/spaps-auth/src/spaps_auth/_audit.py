"""Append-only, hash-chained audit log with a verifier."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ._clock import Now, utcnow
from ._tables import audit_log

__all__ = ["AuditEntry", "AuditLog", "AuditVerification", "GENESIS_HASH"]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One audit record; ``hash`` covers every other field and ``prev_hash``."""

    seq: int
    at: datetime
    actor: str | None
    action: str
    target: str | None
    data: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""


@dataclass(frozen=True)
class AuditVerification:
    """Result of :meth:`AuditLog.verify`.

    Args:
        ok: Whether the whole chain is intact.
        checked: How many entries were read.
        first_bad_seq: ``seq`` of the first entry that breaks the chain, if any.
        reason: Why that entry is bad.
        head_hash: Hash of the last entry (anchor it elsewhere to detect truncation).
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH


def _digest(  # noqa: PLR0917 - one positional per hashed field, in hash order
    seq: int, at: datetime, actor: str | None, action: str, target: str | None, data: str, prev: str
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(), actor, action, target, data, prev], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AuditLog:
    """Append-only log where each entry's hash covers the previous entry's hash.

    Appends take the next ``seq`` (primary key); two concurrent appends racing for the
    same ``seq`` make one fail on the key and retry, so the chain never forks.

    Args:
        engine: Async engine holding the ``auth_audit_log`` table.
        clock: Returns the current aware UTC datetime.
        max_retries: Attempts for an append under contention.

    .. versionadded:: 0.1.0
    """

    def __init__(self, engine: AsyncEngine, *, clock: Now = utcnow, max_retries: int = 50) -> None:
        if max_retries < 1:
            raise ValueError("max_retries must be >= 1")
        self._engine = engine
        self._clock = clock
        self._retries = max_retries

    async def append(
        self,
        action: str,
        *,
        actor: str | None = None,
        target: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append an entry in its own transaction.

        Args:
            action: What happened, e.g. ``"refresh_token.reused"``.
            actor: Who did it (user id), if known.
            target: What it was done to (session id, key id...).
            data: JSON-serialisable details.
        """
        if not action:
            raise ValueError("action must be non-empty")
        payload = json.dumps(dict(data or {}), sort_keys=True, separators=(",", ":"))
        for _ in range(self._retries):
            try:
                async with self._engine.begin() as conn:
                    last = (
                        await conn.execute(
                            select(audit_log.c.seq, audit_log.c.hash)
                            .order_by(audit_log.c.seq.desc())
                            .limit(1)
                        )
                    ).first()
                    seq = 1 if last is None else last.seq + 1
                    prev = GENESIS_HASH if last is None else last.hash
                    at = self._clock()
                    digest = _digest(seq, at, actor, action, target, payload, prev)
                    await conn.execute(
                        insert(audit_log).values(
                            seq=seq,
                            at=at,
                            actor=actor,
                            action=action,
                            target=target,
                            data=payload,
                            prev_hash=prev,
                            hash=digest,
                        )
                    )
            except IntegrityError:
                continue
            return AuditEntry(seq, at, actor, action, target, json.loads(payload), prev, digest)
        raise RuntimeError("audit append kept colliding; giving up")

    async def entries(self, *, after_seq: int = 0, limit: int = 100) -> list[AuditEntry]:
        """Entries with ``seq > after_seq`` in order (at most ``limit``)."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(audit_log)
                    .where(audit_log.c.seq > after_seq)
                    .order_by(audit_log.c.seq)
                    .limit(limit)
                )
            ).all()
        return [
            AuditEntry(
                r.seq, r.at, r.actor, r.action, r.target, json.loads(r.data), r.prev_hash, r.hash
            )
            for r in rows
        ]

    async def count(self) -> int:
        """Number of entries."""
        async with self._engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(audit_log))).scalar_one()
            )

    async def verify(self, *, batch: int = 1000) -> AuditVerification:
        """Walk the chain and name the first entry that was changed, deleted around,
        inserted or reordered.

        Args:
            batch: Rows read per query.
        """
        expected_seq, prev, checked = 1, GENESIS_HASH, 0
        async with self._engine.connect() as conn:
            while True:
                rows = (
                    await conn.execute(
                        select(audit_log)
                        .where(audit_log.c.seq >= expected_seq)
                        .order_by(audit_log.c.seq)
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    return AuditVerification(True, checked, head_hash=prev)
                for row in rows:
                    checked += 1
                    reason = None
                    if row.seq != expected_seq:
                        reason = f"entry {expected_seq} is missing before this entry"
                    elif row.prev_hash != prev:
                        reason = (
                            "does not link to the previous entry (inserted, reordered or rewritten)"
                        )
                    elif (
                        _digest(
                            row.seq,
                            row.at,
                            row.actor,
                            row.action,
                            row.target,
                            row.data,
                            row.prev_hash,
                        )
                        != row.hash
                    ):
                        reason = "content does not match its hash (changed)"
                    if reason is not None:
                        return AuditVerification(False, checked, row.seq, reason, prev)
                    prev, expected_seq = row.hash, expected_seq + 1
