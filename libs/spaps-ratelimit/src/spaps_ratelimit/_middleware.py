"""``RateLimitMiddleware``: the global policy (and route policies) as pure ASGI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import RateLimitExceeded, RateLimitStoreUnavailable
from ._headers import admitted_raw_headers, decision_headers, send_problem
from ._limit import Limit
from ._limiter import RateLimiter
from ._policy import Policy
from ._route import SCOPE_KEY
from ._routes import RouteIndex


class RateLimitMiddleware:
    """Rate-limits every HTTP request before the application sees it.

    Each request is decided against its route's :class:`RouteLimit` when it has one,
    else against ``policy``. Rejected requests get ``429`` problem+json with
    ``Retry-After``; every limited response carries ``RateLimit-Policy`` and
    ``RateLimit``. When the store fails and the limiter fails closed the answer is
    ``503`` problem+json. Problem bodies name the request (``instance``, and the
    ``request_id`` a request-id middleware outside stored in the request state), as
    spaps-ops' own answers do.

    Args:
        app: The ASGI application.
        limiter: The limiter (its store decides where state lives).
        policy: The global policy (a :class:`Policy`, or limits for a policy keyed by
            client IP); ``None`` applies route policies only.
        exempt: Paths never limited: an entry matches itself and everything below it
            (``"/health"`` exempts ``/health/ready``).
        route_policies: Look up route policies (turn off to save the route match
            when no route has one).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.4.0 Problem bodies carry ``instance`` and ``request_id``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        policy: Policy | Limit | str | Sequence[Limit | str] | None = None,
        exempt: Iterable[str] = ("/health", "/metrics"),
        route_policies: bool = True,
    ) -> None:
        if not isinstance(limiter, RateLimiter):
            raise TypeError(f"limiter must be a RateLimiter, got {limiter!r}")
        if isinstance(exempt, str):
            raise TypeError("exempt must be an iterable of paths, not one string")
        paths = tuple(exempt)
        for path in paths:
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"exempt paths must start with '/', got {path!r}")
        self.app = app
        self.limiter = limiter
        self.policy = policy if policy is None or isinstance(policy, Policy) else Policy(policy)
        self._exempt_exact = frozenset(p.rstrip("/") or "/" for p in paths)
        self._exempt_prefixes = tuple((p.rstrip("/")) + "/" for p in paths)
        self._routes = RouteIndex() if route_policies else None
        self._marker_global = (limiter, False)
        self._marker_route = (limiter, True)

    def _exempt(self, path: str) -> bool:
        return path in self._exempt_exact or path.startswith(self._exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        route = self._routes.lookup(scope) if self._routes is not None else None
        limiter = self.limiter
        if route is not None:
            scope[SCOPE_KEY] = self._marker_route
            policy = route[0]
            limiter = route[1] or limiter
        elif self.policy is not None:
            scope[SCOPE_KEY] = self._marker_global
            policy = self.policy
        else:
            scope[SCOPE_KEY] = self._marker_global
            await self.app(scope, receive, send)
            return
        try:
            decision = await policy.check(limiter, scope)
        except RateLimitStoreUnavailable as exc:
            await send_problem(send, exc, scope)
            return
        if decision is None or not decision.states:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            headers = decision_headers(decision)
            await send_problem(send, RateLimitExceeded(decision, headers=headers), scope)
            return
        extra = admitted_raw_headers(decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new message and list: the app's response object may be reused.
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
