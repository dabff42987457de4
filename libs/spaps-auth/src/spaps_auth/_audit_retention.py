"""Retention of the audit log: the oldest entries move to an archive, never vanish."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ._audit_chain import GENESIS_HASH, Chain, checkpoint_digest
from ._clock import Now, utcnow
from ._retention import check_batch, check_keep
from ._tables import audit_archive, audit_checkpoints, audit_log

__all__ = ["AuditRetention"]


def _archivable(cutoff: datetime) -> ColumnElement[bool]:
    """Entries older than ``cutoff`` *before the first entry that is not*: the archive
    holds a prefix of the chain, even when clocks made ``at`` go backwards."""
    first_kept = select(func.min(audit_log.c.seq)).where(audit_log.c.at >= cutoff)
    return and_(
        audit_log.c.at < cutoff,
        or_(first_kept.scalar_subquery().is_(None), audit_log.c.seq < first_kept.scalar_subquery()),
    )


class AuditRetention:
    """Archives audit entries older than the cutoff: ``"auth.audit"``.

    Each batch *moves* the oldest entries from ``auth_audit_log`` to
    ``auth_audit_archive`` (same columns, unchanged) and records a checkpoint in
    ``auth_audit_checkpoints``: the last entry moved, its hash, how many were moved and
    when, chained to the previous checkpoint by a digest. All in the batch's
    transaction, so the chain stays verifiable: :meth:`AuditLog.verify` checks the live
    log from the latest checkpoint, ``verify(include_archive=True)`` the whole chain,
    and :meth:`AuditLog.append` continues it after an archive that emptied the log.

    A batch first checks the entries it moves against the chain; when they do not
    verify (tampered, or rows missing) it raises ``RuntimeError`` and moves nothing, so
    a broken chain is never sealed by a checkpoint. How long the archive is kept is
    the operator's decision (export it, or keep it: it is not read at run time).

    Args:
        keep: How long entries stay in the live log (default 365 days).
        clock: Returns the current aware UTC datetime (the checkpoints' ``archived_at``).

    .. versionadded:: 0.5.0
    """

    def __init__(self, *, keep: timedelta = timedelta(days=365), clock: Now = utcnow) -> None:
        self._keep = check_keep(keep)
        self._clock = clock

    @property
    def name(self) -> str:
        """``"auth.audit"``."""
        return "auth.audit"

    @property
    def default_keep(self) -> timedelta:
        """How long an entry stays in the live log before it is archived."""
        return self._keep

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many entries :meth:`purge_batch` would archive in total (reads only).

        Args:
            connection: A connection of the database holding the spaps-auth tables.
            cutoff: Entries appended before this aware UTC datetime are archived.
        """
        check_batch(cutoff)
        query = select(func.count()).select_from(audit_log).where(_archivable(cutoff))
        return int((await connection.execute(query)).scalar_one())

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Move at most ``limit`` of the oldest expired entries to the archive and write
        their checkpoint, in the caller's transaction; returns how many were moved.

        Args:
            connection: A connection inside the batch's transaction.
            cutoff: Entries appended before this aware UTC datetime are archived.
            limit: At most this many entries.

        Raises:
            RuntimeError: The entries to move do not verify; nothing was moved.
        """
        check_batch(cutoff, limit)
        query = select(audit_log).where(_archivable(cutoff)).order_by(audit_log.c.seq).limit(limit)
        if connection.dialect.name == "postgresql":
            # A second purge running at once waits here until the first commits, then
            # reads the entries after the ones it moved (and its new checkpoint below):
            # batches never overlap, and never see a half-moved chain as a broken one.
            query = query.with_for_update()
        rows = (await connection.execute(query)).all()
        if not rows:
            return 0
        last = (
            await connection.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)
            )
        ).first()
        chain = Chain() if last is None else Chain(seq=last.seq, hash=last.hash)
        for row in rows:
            problem = chain.check(row)
            if problem is not None:
                raise RuntimeError(
                    f"the audit chain is broken at entry {problem.seq} ({problem.reason}); "
                    "nothing was archived: see AuditLog.verify()"
                )
        entries: list[dict[str, Any]] = [dict(row._mapping) for row in rows]
        await connection.execute(insert(audit_archive), entries)
        archived_at = self._clock()
        prev_digest = GENESIS_HASH if last is None else last.digest
        await connection.execute(
            insert(audit_checkpoints).values(
                seq=chain.seq,
                hash=chain.hash,
                archived=len(rows),
                archived_at=archived_at,
                digest=checkpoint_digest(
                    chain.seq, chain.hash, len(rows), archived_at, prev_digest
                ),
            )
        )
        # The rows verified as one unbroken run, so this range is exactly their keys.
        await connection.execute(
            delete(audit_log).where(audit_log.c.seq >= rows[0].seq, audit_log.c.seq <= chain.seq)
        )
        return len(rows)
