"""Append-only, hash-chained audit log with a verifier."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._audit_chain import GENESIS_HASH, Chain, Problem, check_checkpoints
from ._audit_chain import entry_digest as _digest
from ._clock import Now, utcnow
from ._tables import audit_archive, audit_checkpoints, audit_log

__all__ = ["GENESIS_HASH", "AuditEntry", "AuditLog", "AuditVerification"]


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
        first_bad_seq: ``seq`` of the first entry (or checkpoint) that breaks the chain.
        reason: Why that entry is bad.
        head_hash: Hash of the last entry (anchor it elsewhere to detect truncation).
        checkpoint_seq: The last archived entry the live log continues from (0 when
            nothing was archived, or when the archive was verified too).

    .. versionchanged:: 0.5.0 ``checkpoint_seq``.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH
    checkpoint_seq: int = 0


async def chain_head(conn: AsyncConnection) -> tuple[int, str]:
    """The last entry's ``seq`` and hash: the newest live entry, else the last archived
    one (the latest checkpoint), else ``(0, GENESIS_HASH)``."""
    for table in (audit_log, audit_checkpoints):
        last = (
            await conn.execute(
                select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
            )
        ).first()
        if last is not None:
            return int(last.seq), str(last.hash)
    return 0, GENESIS_HASH


class AuditLog:
    """Append-only log where each entry's hash covers the previous entry's hash.

    Appends take the next ``seq`` (primary key); two concurrent appends racing for the
    same ``seq`` make one fail on the key and retry, so the chain never forks.
    :class:`AuditRetention` moves old entries to an archive table with a checkpoint;
    the chain then continues, and verifies, from that checkpoint.

    Args:
        engine: Async engine holding the ``auth_audit_log`` table (and, once retention
            runs, ``auth_audit_archive`` and ``auth_audit_checkpoints``).
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
                    # After retention archived every entry, the chain continues from
                    # the latest checkpoint.
                    last_seq, prev = await chain_head(conn)
                    seq = last_seq + 1
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
        """Live entries with ``seq > after_seq`` in order (at most ``limit``); archived
        entries are not listed."""
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
        """Number of live entries (archived ones are not counted)."""
        async with self._engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(audit_log))).scalar_one()
            )

    async def verify(
        self, *, batch: int = 1000, include_archive: bool = False
    ) -> AuditVerification:
        """Walk the chain and name the first entry that was changed, deleted around,
        inserted or reordered.

        Entries archived by :class:`AuditRetention` are left out by default: the checkpoints
        are checked (none changed or missing) and the live log must continue from the
        latest one. With ``include_archive=True`` the archive and the live log are walked
        as one chain from the first entry, and every checkpoint must match the archived
        entry it names.

        Args:
            batch: Rows read per query.
            include_archive: Verify the archived entries too.

        .. versionchanged:: 0.5.0 Starts from the latest checkpoint; ``include_archive``.
        """
        async with self._engine.connect() as conn:
            checkpoints = (
                await conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq))
            ).all()
            problem = check_checkpoints(checkpoints)
            if problem is not None:
                return AuditVerification(False, 0, problem.seq, problem.reason)
            last_seq = checkpoints[-1].seq if checkpoints else 0
            if include_archive:
                chain = Chain()
                marks = {row.seq: row.hash for row in checkpoints}
                problem = await _walk(conn, audit_archive, chain, batch, marks)
                if problem is None and chain.seq != last_seq:
                    problem = Problem(
                        last_seq,
                        f"the archive ends at entry {chain.seq}, the latest checkpoint is "
                        f"at entry {last_seq} (archived entries or a checkpoint are missing)",
                    )
                if problem is not None:
                    return AuditVerification(
                        False, chain.checked, problem.seq, problem.reason, chain.hash
                    )
                start = 0
            else:
                chain = Chain(
                    seq=last_seq, hash=checkpoints[-1].hash if checkpoints else GENESIS_HASH
                )
                start = last_seq
            problem = await _walk(conn, audit_log, chain, batch)
        if problem is None:
            return AuditVerification(
                True, chain.checked, head_hash=chain.hash, checkpoint_seq=start
            )
        reason = problem.reason
        if start and chain.seq == start:
            reason = f"does not continue from the checkpoint at entry {start}: {reason}"
        return AuditVerification(False, chain.checked, problem.seq, reason, chain.hash, start)


async def _walk(
    conn: AsyncConnection,
    table: Table,
    chain: Chain,
    batch: int,
    marks: Mapping[int, str] | None = None,
) -> Problem | None:
    """Check ``table``'s rows after ``chain.seq`` in order; ``marks`` maps checkpointed
    entries to the hash their checkpoint recorded."""
    while True:
        rows = (
            await conn.execute(
                select(table).where(table.c.seq > chain.seq).order_by(table.c.seq).limit(batch)
            )
        ).all()
        if not rows:
            return None
        for row in rows:
            problem = chain.check(row)
            if problem is None and marks and marks.get(row.seq, row.hash) != row.hash:
                problem = Problem(row.seq, "the checkpoint of this entry records another hash")
            if problem is not None:
                return problem
