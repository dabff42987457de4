"""``RouteLimit``: a per-route policy, as a FastAPI dependency or a route marker."""

# No ``from __future__ import annotations`` here: FastAPI reads the annotations of
# ``RouteLimit.__call__`` at runtime to inject ``Request`` and ``Response``.

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ._errors import RateLimitExceeded
from ._headers import decision_headers
from ._limit import Limit
from ._limiter import RateLimiter
from ._policy import Policy
from .types import KeyFunc, LimitsFunc

#: Scope key where RateLimitMiddleware leaves ``(limiter, route_policy_applied)``.
SCOPE_KEY = "spaps.ratelimit"
#: Attribute of app.state where :func:`spaps_ratelimit.integration.setup` puts the limiter.
STATE_ATTR = "spaps_ratelimiter"
_MARK = "__spaps_route_limit__"
_F = TypeVar("_F", bound=Callable[..., Any])


class RouteLimit:
    """A route's own policy; it replaces the global policy for that route.

    Use it as a FastAPI dependency (``dependencies=[Depends(RouteLimit("5/minute"))]``),
    or mark a plain Starlette endpoint with :meth:`decorate`. With
    :class:`RateLimitMiddleware` installed, the middleware finds the route's policy and
    decides before the app runs (the dependency then does nothing); without it, the
    dependency decides, raises :class:`RateLimitExceeded` (429) or adds the
    ``RateLimit`` headers to the response.

    Args:
        limits: As for :class:`Policy`.
        key: As for :class:`Policy` (runs after the route's earlier dependencies when
            used as a dependency, so it can read what authentication stored).
        overrides: As for :class:`Policy`.
        name: Counter namespace; defaults to the route's path template, so each route
            has its own budget. Routes given the same name share one.
        limiter: The limiter; defaults to the middleware's, else the one registered
            with :func:`spaps_ratelimit.integration.setup`.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        limits: Limit | str | Sequence[Limit | str],
        *,
        key: KeyFunc | None = None,
        overrides: LimitsFunc | None = None,
        name: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        if limiter is not None and not isinstance(limiter, RateLimiter):
            raise TypeError(f"limiter must be a RateLimiter, got {limiter!r}")
        self._base = Policy(limits, key=key, overrides=overrides, name=name or "route")
        self._named = name is not None
        self._limiter = limiter
        self._by_route: dict[str, Policy] = {}

    @property
    def limiter(self) -> RateLimiter | None:
        """The limiter given to this route, if any (else the middleware's is used)."""
        return self._limiter

    def policy_for(self, route_path: str) -> Policy:
        """The policy for the route whose path template is ``route_path``."""
        if self._named:
            return self._base
        policy = self._by_route.get(route_path)
        if policy is None:
            # One entry per route this instance is attached to: bounded by the app.
            policy = self._by_route[route_path] = self._base.renamed("route:" + route_path)
        return policy

    def limiter_for(self, scope: Scope) -> RateLimiter:
        """The limiter to use for a request."""
        if self._limiter is not None:
            return self._limiter
        marker = scope.get(SCOPE_KEY)
        if marker is not None:
            limiter: RateLimiter = marker[0]
            return limiter
        found = getattr(getattr(scope.get("app"), "state", None), STATE_ATTR, None)
        if not isinstance(found, RateLimiter):
            raise RuntimeError(
                "RouteLimit has no limiter: pass limiter=..., add RateLimitMiddleware, "
                "or call spaps_ratelimit.integration.setup(app, limiter) at startup"
            )
        return found

    def decorate(self, endpoint: _F) -> _F:
        """Mark a Starlette endpoint with this policy (enforced by the middleware)."""
        setattr(endpoint, _MARK, self)
        return endpoint

    async def __call__(self, request: Request, response: Response) -> None:
        """The FastAPI dependency: decide unless the middleware already did."""
        scope = request.scope
        marker = scope.get(SCOPE_KEY)
        if marker is not None and marker[1]:
            return
        route = scope.get("route")
        policy = self.policy_for(getattr(route, "path", None) or scope["path"])
        decision = await policy.check(self.limiter_for(scope), scope)
        if decision is None:
            return
        headers = decision_headers(decision)
        if not decision.allowed:
            raise RateLimitExceeded(decision, headers=headers)
        response.headers.update(headers)


def route_limit_of(route: object) -> RouteLimit | None:
    """The :class:`RouteLimit` attached to a Starlette/FastAPI route, if any."""
    found = getattr(getattr(route, "endpoint", None), _MARK, None)
    if isinstance(found, RouteLimit):
        return found
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        for sub in getattr(dependant, "dependencies", ()):
            if isinstance(getattr(sub, "call", None), RouteLimit):
                limit: RouteLimit = sub.call
                return limit
            stack.append(sub)
    return None
