"""Pure-ASGI middleware that resolves the tenant of each request and sets the context."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping

from starlette.types import ASGIApp, Receive, Scope, Send

from ._context import _TENANT
from ._errors import (
    SpapsTenancyError,
    TenantInvalidError,
    TenantMissingError,
    TenantUnknownError,
)
from ._problem import send_problem
from ._resolvers import TenantResolver

TenantLookup = Callable[[str], bool | Awaitable[bool]]
"""Answers whether a tenant id names a known tenant (sync or async)."""

DEFAULT_TENANT_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


class TenantMiddleware:
    """Resolve the tenant of every HTTP and WebSocket request and set the tenant context.

    A request without a tenant gets ``400 tenancy.tenant_missing``, a malformed one
    ``400 tenancy.tenant_invalid`` and an unknown one ``404 tenancy.tenant_unknown``, as
    ``application/problem+json``. There is no default tenant. The resolved id is also
    stored as ``request.state.tenant_id``.

    Args:
        app: The wrapped ASGI app.
        resolver: Finds the tenant id of a request (see :func:`first_of`).
        lookup: Tells whether a tenant exists; without it every well-formed id passes.
        exempt_paths: Path prefixes served without a tenant (``/health``, ``/metrics``).
        tenant_pattern: Regular expression a tenant id must match in full.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        resolver: TenantResolver,
        lookup: TenantLookup | None = None,
        exempt_paths: Iterable[str] = (),
        tenant_pattern: str = DEFAULT_TENANT_PATTERN,
    ) -> None:
        if not callable(resolver):
            raise TypeError("resolver must be callable")
        if lookup is not None and not callable(lookup):
            raise TypeError("lookup must be callable or None")
        exempt = tuple(exempt_paths)
        if isinstance(exempt_paths, str) or not all(p.startswith("/") for p in exempt):
            raise ValueError("exempt_paths must be an iterable of paths starting with '/'")
        self.app = app
        self.resolver = resolver
        self.lookup = lookup
        self.exempt_paths = exempt
        self.pattern = re.compile(tenant_pattern)
        # Precomputed once: an exempt entry matches itself and everything below it.
        self._exempt_exact = frozenset(p.rstrip("/") or "/" for p in exempt)
        self._exempt_prefixes = tuple(p.rstrip("/") + "/" for p in exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in self._exempt_exact or path.startswith(self._exempt_prefixes):
            await self.app(scope, receive, send)
            return
        try:
            tenant_id = self._resolve_sync(scope)
            if self.lookup is not None:
                await _check_known(self.lookup, tenant_id)
        except SpapsTenancyError as error:
            if scope["type"] == "websocket":
                # 1008 = policy violation: the handshake is refused before it is accepted.
                await send({"type": "websocket.close", "code": 1008, "reason": error.code})
            else:
                await send_problem(send, error)
            return
        state = scope.get("state")
        if isinstance(state, MutableMapping):
            # ``request.state.tenant_id`` for code that reads state (e.g. spaps-ratelimit's
            # tenant_key); the context variable stays the source of truth.
            state["tenant_id"] = tenant_id
        elif state is None:
            scope["state"] = {"tenant_id": tenant_id}
        token = _TENANT.set(tenant_id)
        try:
            await self.app(scope, receive, send)
        finally:
            _TENANT.reset(token)

    def _resolve_sync(self, scope: Scope) -> str:
        tenant_id = self.resolver(scope)
        if tenant_id is None:
            raise TenantMissingError("the request does not name a tenant")
        if not self.pattern.fullmatch(tenant_id):
            raise TenantInvalidError("the tenant identifier is malformed")
        return tenant_id


async def _check_known(lookup: TenantLookup, tenant_id: str) -> None:
    known = lookup(tenant_id)
    if inspect.isawaitable(known):
        known = await known
    if not known:
        raise TenantUnknownError(f"tenant {tenant_id!r} does not exist")
