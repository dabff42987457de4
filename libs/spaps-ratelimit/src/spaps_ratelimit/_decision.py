"""``Decision``: what the limiter answered for one request, per limit."""

from __future__ import annotations

import math
from typing import NamedTuple

from ._limit import Limit

# Named tuples, not frozen dataclasses: immutable too, and several times cheaper to
# build -- one Decision and one LimitState per limit are built for every request.


class LimitState(NamedTuple):
    """The state of one limit after a decision.

    Args:
        limit: The limit.
        admitted: Whether this limit alone would admit the request.
        remaining: Requests this limit admits right now after the decision.
        reset_after: Seconds until this limit is fully replenished.
        retry_after: Seconds until this limit admits the request (0 when it does).

    .. versionadded:: 0.1.0
    """

    limit: Limit
    admitted: bool
    remaining: int
    reset_after: float
    retry_after: float


class Decision(NamedTuple):
    """The answer for one request: admitted only if every limit admits it.

    Args:
        allowed: Whether the request is admitted (and consumed from every limit).
        states: One :class:`LimitState` per limit, in the policy's order.
        degraded: True when the store failed and the limiter failed open.

    .. versionadded:: 0.1.0
    """

    allowed: bool
    states: tuple[LimitState, ...]
    degraded: bool = False

    @property
    def retry_after(self) -> float:
        """Seconds until the request would be admitted (0 when it was)."""
        return max((state.retry_after for state in self.states), default=0.0)

    @property
    def retry_after_seconds(self) -> int:
        """:attr:`retry_after` rounded up to whole seconds, as ``Retry-After`` needs (>= 1)."""
        return max(1, math.ceil(self.retry_after - 1e-9)) if not self.allowed else 0

    @property
    def remaining(self) -> int:
        """The smallest remaining count over all limits."""
        return min((state.remaining for state in self.states), default=0)
