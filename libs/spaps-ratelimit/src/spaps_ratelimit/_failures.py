"""``FailureLimitMiddleware``: a per-client budget of failed attempts (e.g. API keys)."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._client_ip import client_ip
from ._decision import Decision
from ._errors import RateLimitExceeded, SpapsRatelimitError
from ._headers import decision_headers, send_problem
from ._limit import Limit
from ._limiter import RateLimiter
from .types import Clock, KeyFunc

#: Which requests are attempts: the scope in, true or false out.
AttemptFilter = Callable[[Scope], bool]


class FailureLimitMiddleware:
    """Count failed attempts per client against ``limit``; past it, refuse attempts
    with 429 before the application checks them.

    A request is an *attempt* when ``attempt(scope)`` is true (e.g. it carries an API
    key); it *failed* when the application answered one of ``failure_statuses``. Each
    failure takes one unit of the client's budget in the limiter's store (shared by
    every process using that store). When a failure finds the budget spent, the client
    is blocked in this process until the budget admits one more: its attempts are
    answered 429 ``ratelimit.rate_limited`` (``Retry-After``) *without* being checked,
    so a guess made while blocked learns nothing, right or wrong. Successful attempts
    cost nothing. Each further process lets at most one more failure through before it
    blocks too.

    Args:
        app: The ASGI application.
        limiter: Where failures are counted.
        limit: The failure budget (e.g. ``Limit.parse("20/minute")``).
        attempt: Which requests are attempts.
        key: The client (default: :func:`client_ip` trusting no proxy).
        failure_statuses: Statuses that mean the attempt failed (default ``{401}``).
        namespace: Separates these counters from other policies on the same key.
        clock: Seconds, for the block's end (default ``time.monotonic``; tests pass the
            store's ``ManualClock``).
        max_blocked: Most clients remembered as blocked (the oldest blocks are dropped).

    .. versionadded:: 0.3.0
    .. versionchanged:: 0.4.0 The 429 body carries ``instance`` and ``request_id``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        limit: Limit,
        attempt: AttemptFilter,
        key: KeyFunc | None = None,
        failure_statuses: Collection[int] = frozenset({401}),
        namespace: str = "failures",
        clock: Clock | None = None,
        max_blocked: int = 100_000,
    ) -> None:
        if not isinstance(limiter, RateLimiter):
            raise TypeError(f"limiter must be a RateLimiter, got {limiter!r}")
        if not isinstance(limit, Limit):
            raise TypeError(f"limit must be a Limit, got {limit!r}")
        if not callable(attempt):
            raise TypeError(f"attempt must be callable, got {attempt!r}")
        if not failure_statuses:
            raise ValueError("failure_statuses is empty: nothing would count")
        if max_blocked < 1:
            raise ValueError(f"max_blocked must be >= 1, got {max_blocked}")
        self.app = app
        self.limiter = limiter
        self.limit = limit
        self._attempt = attempt
        self._key = key or client_ip()
        self._failures = frozenset(failure_statuses)
        self._namespace = namespace
        self._clock = clock or time.monotonic
        self._max_blocked = max_blocked
        #: client key -> (blocked until, the refusing decision)
        self._blocked: dict[str, tuple[float, Decision]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._attempt(scope):
            await self.app(scope, receive, send)
            return
        client = self._key(scope)
        if inspect.isawaitable(client):
            client = await client
        if client is None:
            await self.app(scope, receive, send)
            return
        blocked = self._blocked.get(client)
        if blocked is not None:
            remaining = blocked[0] - self._clock()
            if remaining > 0:
                await send_problem(send, _refusal(blocked[1], remaining), scope)
                return
            del self._blocked[client]
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # An error the app leaves to an outer layer to render (the problem protocol's
            # ``status``, as spaps-ops renders them) fails the attempt as its answer would.
            if getattr(exc, "status", None) in self._failures:
                await self._failed(client)
            raise
        if status in self._failures:
            await self._failed(client)

    async def _failed(self, client: str) -> None:
        try:
            decision = await self.limiter.hit(client, [self.limit], namespace=self._namespace)
        except SpapsRatelimitError:
            return  # the store failed closed; the failure was answered, the limiter logged it
        if decision.allowed:
            return
        if len(self._blocked) >= self._max_blocked:
            del self._blocked[next(iter(self._blocked))]  # the oldest block
        self._blocked[client] = (self._clock() + decision.retry_after, decision)


def _refusal(decision: Decision, remaining: float) -> RateLimitExceeded:
    headers = decision_headers(decision)
    headers["Retry-After"] = str(max(1, math.ceil(remaining)))
    return RateLimitExceeded(decision, headers=headers)
