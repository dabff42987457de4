"""What a receiver did with each request: accepted, absorbed as a duplicate, or rejected."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ._tables import WebhookTables

ReceiptOutcome = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class Receipt:
    """One request a :class:`WebhookReceiver` answered.

    Attributes:
        outcome: ``accepted`` (verified, handed to the handler), ``duplicate`` (a replayed
            ``webhook-id``, answered 2xx) or ``rejected`` (answered 4xx).
        webhook_id: The ``webhook-id`` header as sent (unverified when rejected before
            the signature check), or ``None``.
        status: The HTTP status the request is answered with.
        code: The problem code of a rejection or duplicate (``webhooks.*``), else ``None``.
        detail: Why it was rejected.
        size: Body bytes read (at most the limit plus one chunk for a refused body).
        received_at: Unix time of the decision.

    .. versionadded:: 0.3.0
    """

    outcome: ReceiptOutcome
    webhook_id: str | None
    status: int
    code: str | None
    detail: str | None
    size: int
    received_at: float


ReceiptHook = Callable[[Receipt], Awaitable[None] | None]
"""Records a :class:`Receipt` (a database row, a log line, a metric); may be async."""


class MemoryReceiptLog:
    """A bounded in-process receipt log (tests, development): pass it as ``on_receipt``.

    Args:
        max_receipts: The oldest receipts are dropped beyond this many.

    .. versionadded:: 0.3.0
    """

    def __init__(self, *, max_receipts: int = 10_000) -> None:
        if max_receipts < 1:
            raise ValueError("max_receipts must be at least 1")
        self._receipts: deque[Receipt] = deque(maxlen=max_receipts)
        self._lock = threading.Lock()

    def __call__(self, receipt: Receipt) -> None:
        with self._lock:
            self._receipts.append(receipt)

    @property
    def receipts(self) -> list[Receipt]:
        """Every kept receipt, oldest first."""
        with self._lock:
            return list(self._receipts)

    def rejected(self) -> list[Receipt]:
        """The rejected requests, oldest first."""
        return [r for r in self.receipts if r.outcome == "rejected"]


class SqlReceiptLog:
    """Receipts as rows of the ``<prefix>receipts`` table: pass it as ``on_receipt``.

    Args:
        engine: An async engine of the database holding the webhook tables.
        tables: The webhook tables.

    .. versionadded:: 0.3.0
    """

    def __init__(self, engine: AsyncEngine, tables: WebhookTables) -> None:
        if not isinstance(engine, AsyncEngine):
            raise TypeError("engine must be a sqlalchemy AsyncEngine")
        self._engine = engine
        self._table = tables.receipts

    async def __call__(self, receipt: Receipt) -> None:
        webhook_id = receipt.webhook_id[:256] if receipt.webhook_id is not None else None
        async with self._engine.begin() as conn:
            await conn.execute(
                self._table.insert().values(
                    webhook_id=webhook_id,
                    outcome=receipt.outcome,
                    status=receipt.status,
                    code=receipt.code,
                    detail=receipt.detail,
                    size=receipt.size,
                    received_at=datetime.fromtimestamp(receipt.received_at, UTC),
                )
            )

    async def recent(
        self, *, outcome: ReceiptOutcome | None = None, limit: int = 100
    ) -> list[Receipt]:
        """The newest receipts first, optionally of one outcome."""
        t = self._table
        query = select(t).order_by(t.c.received_at.desc(), t.c.id.desc()).limit(limit)
        if outcome is not None:
            query = query.where(t.c.outcome == outcome)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Receipt(
                outcome=r.outcome,
                webhook_id=r.webhook_id,
                status=r.status,
                code=r.code,
                detail=r.detail,
                size=r.size,
                received_at=r.received_at.timestamp(),
            )
            for r in rows
        ]
