"""Exceptions of spaps-ratelimit.

The hierarchy::

    SpapsRatelimitError                 root of every error this library raises
    ├── RateLimitExceeded               429: a limit rejected the request
    ├── OperationCostExceeded           400: a GraphQL operation costs more than allowed
    ├── RequestBodyTooLarge             413: the request body passed the size limit
    └── RateLimitStoreUnavailable       503: the store failed and the policy fails closed

Each carries ``status``, ``code``, ``title``, ``detail``, ``headers`` and
``extensions``, so any problem+json renderer (spaps-ops, or
:func:`spaps_ratelimit.integration.install_error_handlers`) can answer with it
without importing this library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._decision import Decision


class SpapsRatelimitError(Exception):
    """Root of every error raised by spaps-ratelimit.

    Args:
        detail: A human-readable explanation specific to this occurrence.
        headers: Response headers the error asks for (e.g. ``Retry-After``).
        extensions: Extra problem+json members.
    """

    status: int = 500
    code: str = "ratelimit.error"
    title: str = "Rate limiting failed"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


class RateLimitExceeded(SpapsRatelimitError):
    """A limit rejected the request; ``decision`` tells which and for how long.

    Args:
        decision: The rejecting decision.
        headers: ``Retry-After`` plus the ``RateLimit``/``RateLimit-Policy`` headers.
    """

    status = 429
    code = "ratelimit.rate_limited"
    title = "Too Many Requests"

    def __init__(self, decision: Decision, *, headers: Mapping[str, str]) -> None:
        retry = decision.retry_after_seconds
        violated = [state.limit.name for state in decision.states if not state.admitted]
        super().__init__(
            f"Rate limit exceeded; retry in {retry} s.",
            headers=headers,
            extensions={"retry_after": retry, "violated-policies": violated},
        )
        self.decision = decision


class OperationCostExceeded(SpapsRatelimitError):
    """An operation costs more than one request may; it ran nothing and was not charged.

    Raised (as a GraphQL error) by :class:`spaps_ratelimit.strawberry.CostLimit` when
    the static cost is above ``max_cost``, or above what the caller's limits can ever
    admit at once (their burst): retrying the same operation cannot help.

    Args:
        cost: The operation's cost.
        max_cost: The most it may cost.

    .. versionadded:: 0.5.0
    """

    status = 400
    code = "ratelimit.cost_exceeded"
    title = "Operation Too Costly"

    def __init__(self, cost: int, max_cost: int) -> None:
        super().__init__(
            f"The operation costs {cost}; at most {max_cost} is allowed.",
            extensions={"cost": cost, "max_cost": max_cost},
        )
        self.cost = cost
        self.max_cost = max_cost


class RequestBodyTooLarge(SpapsRatelimitError):
    """The request body is larger than the configured limit.

    Args:
        max_body_size: The limit, in bytes.
    """

    status = 413
    code = "ratelimit.body_too_large"
    title = "Content Too Large"

    def __init__(self, max_body_size: int) -> None:
        super().__init__(
            f"The request body exceeds {max_body_size} bytes.",
            extensions={"max_body_size": max_body_size},
        )
        self.max_body_size = max_body_size


class RateLimitStoreUnavailable(SpapsRatelimitError):
    """The limit store failed and the limiter is configured to fail closed.

    Args:
        retry_after: Seconds the client should wait before retrying.
    """

    status = 503
    code = "ratelimit.store_unavailable"
    title = "Service Unavailable"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(
            "Rate limiting is temporarily unavailable.",
            headers={"Retry-After": str(retry_after)},
        )
