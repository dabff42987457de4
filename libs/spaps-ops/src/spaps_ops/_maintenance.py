"""Maintenance mode: answer 503 problem+json with Retry-After, switchable at runtime."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ._problem import problem_response, request_id_of


class MaintenanceSwitch:
    """The maintenance flag of one app, flipped at runtime (e.g. from an admin route).

    Args:
        enabled: start in maintenance mode.
        retry_after: seconds clients are told to wait.
        detail: message shown in the problem ``detail``.
    """

    def __init__(
        self, *, enabled: bool = False, retry_after: int = 120, detail: str | None = None
    ) -> None:
        self._check(retry_after)
        self.enabled = enabled
        self.retry_after = retry_after
        self.detail = detail

    @staticmethod
    def _check(retry_after: int) -> None:
        if not isinstance(retry_after, int) or retry_after < 1:
            raise ValueError("retry_after must be a positive int (seconds)")

    def enable(self, *, retry_after: int | None = None, detail: str | None = None) -> None:
        """Turn maintenance mode on.

        Args:
            retry_after: new ``Retry-After`` seconds (default: keep).
            detail: new message (default: keep).
        """
        if retry_after is not None:
            self._check(retry_after)
            self.retry_after = retry_after
        if detail is not None:
            self.detail = detail
        self.enabled = True

    def disable(self) -> None:
        """Turn maintenance mode off."""
        self.enabled = False


class MaintenanceMiddleware:
    """Answer 503 while the switch is on, except for exempt path prefixes.

    Args:
        app: the ASGI app to wrap.
        switch: the flag to read on every request.
        exempt_prefixes: paths always served, with everything below them (``/health``
            covers ``/health/ready`` but not ``/healthcare``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        switch: MaintenanceSwitch,
        exempt_prefixes: tuple[str, ...] = ("/health", "/metrics"),
    ) -> None:
        if not isinstance(switch, MaintenanceSwitch):
            raise TypeError("switch must be a MaintenanceSwitch")
        prefixes = tuple(p.rstrip("/") for p in exempt_prefixes)
        if not all(p.startswith("/") for p in prefixes):
            raise ValueError("exempt_prefixes must be absolute paths")
        self.app = app
        self.switch = switch
        self._exact = frozenset(prefixes)
        self._below = tuple(p + "/" for p in prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        switch = self.switch
        if not switch.enabled or scope["type"] != "http" or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        response = problem_response(
            status=503,
            code="ops.maintenance",
            title="Service under maintenance",
            detail=switch.detail,
            instance=scope["path"],
            request_id=request_id_of(scope),
            headers={"Retry-After": str(switch.retry_after)},
        )
        await response(scope, receive, send)

    def exempt(self, path: str) -> bool:
        """Whether ``path`` is served in maintenance mode.

        Args:
            path: the request path.
        """
        return path in self._exact or path.startswith(self._below)
