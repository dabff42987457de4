"""Exceptions of spaps-ratelimit.

The hierarchy::

    SpapsRatelimitError                 root of every error this library raises
    ├── RateLimitExceeded               429: a limit rejected the request
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
