"""What a receiver did with each request: accepted, absorbed as a duplicate, or rejected."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

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
