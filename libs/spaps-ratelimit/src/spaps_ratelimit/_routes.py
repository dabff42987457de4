"""Find the route a request will reach, to apply that route's own policy."""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import Scope

from ._limiter import RateLimiter
from ._policy import Policy
from ._route import route_limit_of

#: A route's policy and the limiter it asked for (``None``: the middleware's).
RoutePolicy = tuple[Policy, RateLimiter | None]


class RouteIndex:
    """Routes up to the last one carrying a :class:`RouteLimit`, in routing order.

    Built from the application's route list on first use and rebuilt when the list
    changes length; with no route policies at all the lookup costs one comparison.
    Answers are memoised per (method, path) in a bounded table, so hot paths skip
    route matching. Mounted sub-applications are not searched (give them their own
    middleware).
    """

    def __init__(self, *, max_cached_paths: int = 4096) -> None:
        # Derived caches of the app's routes, not per-request state.
        self._routes: object = None
        self._count = -1
        self._entries: list[tuple[object, RoutePolicy | None]] = []
        self._cache: dict[tuple[str, str], RoutePolicy | None] = {}
        self._max_cached = max_cached_paths

    def _rebuild(self, routes: list[object]) -> None:
        entries: list[tuple[object, RoutePolicy | None]] = []
        last = -1
        for index, route in enumerate(routes):
            limit = route_limit_of(route)
            path = getattr(route, "path", "")
            entries.append(
                (route, None if limit is None else (limit.policy_for(path), limit.limiter))
            )
            if limit is not None:
                last = index
        self._entries = entries[: last + 1]
        self._routes = routes
        self._count = len(routes)
        self._cache.clear()

    def lookup(self, scope: Scope) -> RoutePolicy | None:
        """The route policy (and limiter) for ``scope``, or ``None`` for the global one."""
        routes = getattr(scope.get("app"), "routes", None)
        if not isinstance(routes, list):
            return None
        if routes is not self._routes or len(routes) != self._count:
            self._rebuild(routes)
        if not self._entries:
            return None
        cache_key = (scope.get("method", ""), scope["path"])
        if cache_key in self._cache:
            return self._cache[cache_key]
        found: RoutePolicy | None = None
        for route, policy in self._entries:
            match, _ = route.matches(scope)  # type: ignore[attr-defined]  # Starlette BaseRoute
            if match is Match.FULL:
                found = policy
                break
        if len(self._cache) >= self._max_cached:
            self._cache.clear()  # bounded: a flood of distinct paths cannot grow it
        self._cache[cache_key] = found
        return found
