"""Pure-ASGI middleware that authenticates each request once, before routing."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ._authenticator import Authenticator
from ._errors import AuthenticationError, SpapsAuthError
from ._problem import problem_response

__all__ = ["AuthenticationMiddleware", "PRINCIPAL_STATE_KEY"]

#: Where the middleware leaves its result in the request state: the principal, or
#: ``None`` for a request without credentials. The key's presence is what tells the
#: dependencies that the middleware ran (``None`` alone could also mean "not installed").
PRINCIPAL_STATE_KEY = "spaps_auth.principal"


class AuthenticationMiddleware:
    """Authenticate every HTTP and WebSocket request once, from its headers.

    * No credentials: the request goes on without a principal (routes that require one
      answer 401 through :data:`~spaps_auth.fastapi.CurrentPrincipal`).
    * Valid credentials: the request state gets ``principal`` (the
      :class:`~spaps_auth.Principal`), ``claims`` (its claims, read by spaps-tenancy's
      ``claim_resolver``) and ``user_id`` (its subject, read by the spaps-ops access log).
      ``get_principal`` / ``get_optional_principal`` then return that principal without
      verifying the token again.
    * Invalid credentials (a bad, expired or revoked token, an unknown API key): the app
      is not called. HTTP requests get the problem+json answer of
      :func:`~spaps_auth.fastapi.problem_response` (401 with ``WWW-Authenticate``);
      WebSocket handshakes are closed with code 1008. This holds on every route, also
      those that need no authentication: a client holding an expired token refreshes it.

    With ``required=True`` a request without credentials is refused too (401
    ``auth.unauthenticated``), except on ``public_paths``: the shape of an API where
    every route needs a caller, e.g. one whose tenant comes from the token (spaps-tenancy's
    ``claim_resolver``), so a missing token reads "log in" rather than "no tenant".

    Args:
        app: The wrapped ASGI app.
        authenticator: Authenticates the requests.
        required: Refuse requests without credentials (outside ``public_paths``).
        public_paths: With ``required``, paths served without credentials; an entry
            matches itself and everything below it (``"/docs"`` covers ``/docs/x``).

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        required: bool = False,
        public_paths: Iterable[str] = (),
    ) -> None:
        if not isinstance(authenticator, Authenticator):
            raise TypeError("authenticator must be an Authenticator")
        if isinstance(public_paths, str):
            raise TypeError("public_paths must be an iterable of paths, not one string")
        paths = tuple(public_paths)
        if not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise ValueError("public_paths must be paths starting with '/'")
        self.app = app
        self.authenticator = authenticator
        self.required = required
        self._public_exact = frozenset(p.rstrip("/") or "/" for p in paths)
        self._public_prefixes = tuple(p.rstrip("/") + "/" for p in paths)

    def _public(self, path: str) -> bool:
        return path in self._public_exact or path.startswith(self._public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            # Headers over the raw list: the authenticator reads at most two headers, so
            # a scan beats building a dict of all of them.
            principal = await self.authenticator.authenticate(Headers(scope=scope))
            if principal is None and self.required and not self._public(scope["path"]):
                raise AuthenticationError("missing credentials")
        except SpapsAuthError as error:
            if scope["type"] == "websocket":
                # 1008 = policy violation: the handshake is refused before it is accepted.
                await send({"type": "websocket.close", "code": 1008, "reason": error.code})
            else:
                await problem_response(error)(scope, receive, send)
            return
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state[PRINCIPAL_STATE_KEY] = principal
        if principal is not None:
            state["principal"] = principal
            state["claims"] = principal.claims
            state["user_id"] = principal.subject
        await self.app(scope, receive, send)
