"""The audit log's hash chain: entry and checkpoint digests, and the walks that check them.

Each entry's ``hash`` covers its fields and the previous entry's hash. Retention moves the
oldest entries to the archive table and records a checkpoint per batch (the last entry
moved and how many); each checkpoint's ``digest`` covers its fields and the previous
checkpoint's digest, so the checkpoints form a chain of their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "GENESIS_HASH",
    "Chain",
    "Problem",
    "check_checkpoints",
    "checkpoint_digest",
    "entry_digest",
]

GENESIS_HASH = "0" * 64


def _sha256(fields: list[Any]) -> str:
    canonical = json.dumps(fields, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_digest(  # noqa: PLR0917 - one positional per hashed field, in hash order
    seq: int, at: datetime, actor: str | None, action: str, target: str | None, data: str, prev: str
) -> str:
    """The hash of an entry: its fields and ``prev``, the previous entry's hash."""
    return _sha256([seq, at.isoformat(), actor, action, target, data, prev])


def checkpoint_digest(
    seq: int, hash: str, archived: int, archived_at: datetime, prev_digest: str
) -> str:
    """The digest of a checkpoint: its fields and the previous checkpoint's digest."""
    return _sha256(["checkpoint", seq, hash, archived, archived_at.isoformat(), prev_digest])


class Problem(NamedTuple):
    """Where the chain breaks (``seq``) and why."""

    seq: int
    reason: str


class Chain:
    """Checks audit rows in ``seq`` order, continuing from entry ``seq`` with ``hash``.

    Args:
        seq: The last entry already checked (0 before the first entry).
        hash: Its hash (:data:`GENESIS_HASH` before the first entry).
    """

    def __init__(self, *, seq: int = 0, hash: str = GENESIS_HASH) -> None:
        self.seq = seq
        self.hash = hash
        self.checked = 0

    def check(self, row: Any) -> Problem | None:
        """Check the next row (a row of the audit columns) and advance past it if intact."""
        self.checked += 1
        expected = self.seq + 1
        reason = None
        if row.seq != expected:
            reason = f"entry {expected} is missing before this entry"
        elif row.prev_hash != self.hash:
            reason = "does not link to the previous entry (inserted, reordered or rewritten)"
        elif (
            entry_digest(
                row.seq, row.at, row.actor, row.action, row.target, row.data, row.prev_hash
            )
            != row.hash
        ):
            reason = "content does not match its hash (changed)"
        if reason is not None:
            return Problem(row.seq, reason)
        self.seq, self.hash = row.seq, row.hash
        return None


def check_checkpoints(rows: Sequence[Any]) -> Problem | None:
    """Check the checkpoint rows (in ``seq`` order): each digest, and that each one's
    ``archived`` count spans exactly the entries since the previous checkpoint."""
    prev_seq, prev_digest = 0, GENESIS_HASH
    for row in rows:
        if row.seq - prev_seq != row.archived:
            return Problem(
                row.seq,
                f"checkpoint {row.seq} archived {row.archived} entries after checkpoint "
                f"{prev_seq} (a checkpoint is missing or was changed)",
            )
        if checkpoint_digest(row.seq, row.hash, row.archived, row.archived_at, prev_digest) != (
            row.digest
        ):
            return Problem(
                row.seq, f"checkpoint {row.seq} does not match its digest (changed or replaced)"
            )
        prev_seq, prev_digest = row.seq, row.digest
    return None
