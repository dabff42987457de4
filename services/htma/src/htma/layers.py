"""The request layers in front of htma's routes, as pure-ASGI middleware.

Outermost first, inside spaps-ops' own stack (request id, access log, metrics, security
headers, problem rendering, probes):

0. spaps-ops' ``DatabaseOutageMiddleware``: a database outage met by the layers below
   (the token's session check, the idempotency records) answers 503
   ``ops.database_unavailable``, as one met by a route does (``use_database``'s handlers
   only see routes);
1. spaps-jobs' ``IdempotencyMiddleware``: a retried creating POST replays its first
   answer before anything else runs (keys are scoped to the ``Authorization`` header);
2. spaps-auth's ``AuthenticationMiddleware`` with ``required=True``: every request
   outside :data:`UNAUTHENTICATED_PATHS` needs a valid bearer token (``401 auth.*``
   otherwise); the principal lands in ``request.state`` for ``CurrentPrincipal``. The
   public paths skip it altogether (:class:`PublicPathsBypass`): they ignore any
   credentials sent, as their OpenAPI operations (no security, no 401) promise;
3. spaps-tenancy's ``TenantMiddleware``: the request runs inside the clinic its token's
   ``clinic`` claim names (``claim_resolver``; a token naming none is refused
   ``403 auth.forbidden``, as a role lacking a permission is);
4. spaps-ratelimit's ``RateLimitMiddleware``: each route's ``RouteLimit`` (see
   :mod:`htma.limits`) is decided before routing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from spaps_auth import Authenticator, PermissionDeniedError
from spaps_auth.fastapi import AuthenticationMiddleware
from spaps_jobs import AsyncSqlDedupeStore, IdempotencyMiddleware
from spaps_ops.db import DatabaseOutageMiddleware
from spaps_ratelimit import RateLimiter, RateLimitMiddleware
from spaps_tenancy import SpapsTenancyError, TenantMiddleware, claim_resolver
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from htma.db import Base
from htma.identity.service import check_clinic_id

#: The operations reachable without an access token (webhooks carry a signature
#: instead); the OpenAPI document declares no security for them.
PUBLIC_PATHS = frozenset({
    "/v1/auth/signup", "/v1/auth/login", "/v1/hooks/ingredient", "/v1/auth/invitations/accept",
    "/v1/auth/password/reset", "/v1/auth/password/reset/confirm", "/v1/webhooks/event-types",
    "/v1/erasures",  # the status of an erasure: its random id is the credential
})  # fmt: skip
#: The public operations as the OpenAPI document names them (its path templates), the
#: refresh exchange among them.
PUBLIC_OPERATIONS = PUBLIC_PATHS | {"/v1/erasures/{erasure_id}", "/v1/auth/refresh"}
#: Also served without a token: the refresh exchange (its credential is the refresh token
#: in the body), the signing keys, the API documents and the probes.
UNAUTHENTICATED_PATHS = PUBLIC_PATHS | {
    "/v1/auth/refresh", "/.well-known/jwks.json", "/docs", "/redoc", "/openapi.json",
    "/health", "/metrics",
}  # fmt: skip
#: The methods whose requests honour ``Idempotency-Key`` (every POST: the creating ones,
#: and the rest harmlessly), the header and its longest key; ``htma.idempotency_docs``
#: documents them on the same operations.
IDEMPOTENT_METHODS = ("POST",)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255
#: The token claim naming the caller's clinic (the tenant).
CLINIC_CLAIM = "clinic"
_CLINIC_OF_CLAIMS = claim_resolver(CLINIC_CLAIM)


def clinic_of_token(scope: Scope) -> str:
    """The clinic named by the verified token's ``clinic`` claim (``TenantMiddleware``'s
    resolver).

    Every route it runs for needs a token (the authentication middleware is outside it),
    and htma signs a clinic into each one: a token without a usable clinic is a forbidden
    caller (403 ``auth.forbidden``), never a request to guess a tenant for.
    """
    try:
        clinic = _CLINIC_OF_CLAIMS(scope)
        if clinic is not None:
            return check_clinic_id(clinic)
    except (SpapsTenancyError, ValueError):
        pass
    raise PermissionDeniedError("the token carries no clinic or role")


class PublicPathsBypass:
    """Send requests for public paths straight to the app, the others through ``layer``.

    Args:
        app: the wrapped ASGI app.
        paths: the public paths; an entry matches itself and everything below it.
        layer: builds the guarding layer around ``app`` (e.g. the authentication).
    """

    def __init__(
        self, app: ASGIApp, *, paths: Iterable[str], layer: Callable[[ASGIApp], ASGIApp]
    ) -> None:
        entries = tuple(paths)
        self.app = app
        self.guarded = layer(app)
        self._exact = frozenset(p.rstrip("/") or "/" for p in entries)
        self._prefixes = tuple(p.rstrip("/") + "/" for p in entries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path in self._exact or path.startswith(self._prefixes):
            await self.app(scope, receive, send)
        else:
            await self.guarded(scope, receive, send)


def request_layers(
    engine: AsyncEngine, *, authenticator: Authenticator, limiter: RateLimiter
) -> list[Middleware]:
    """The middleware list for ``spaps_ops.create_app(middleware=...)``, outermost first.

    Args:
        engine: the database of the idempotency records.
        authenticator: verifies the bearer tokens.
        limiter: decides the routes' ``RouteLimit`` s.
    """
    paths = sorted(UNAUTHENTICATED_PATHS)
    return [
        Middleware(DatabaseOutageMiddleware),
        # Creating POSTs (sign-up, users, panels, messages, endpoints) honour
        # Idempotency-Key: a retried request replays the first response instead of
        # creating a second row.
        Middleware(
            IdempotencyMiddleware,
            store=AsyncSqlDedupeStore(engine, metadata=Base.metadata),
            methods=IDEMPOTENT_METHODS,
            header_name=IDEMPOTENCY_HEADER,
            max_key_length=MAX_IDEMPOTENCY_KEY,
        ),
        Middleware(
            PublicPathsBypass,
            paths=paths,
            layer=lambda app: AuthenticationMiddleware(
                app, authenticator=authenticator, required=True, public_paths=paths
            ),
        ),
        Middleware(TenantMiddleware, resolver=clinic_of_token, exempt_paths=paths),
        # Route limits only (no global policy); the probes never reach this far.
        Middleware(RateLimitMiddleware, limiter=limiter),
    ]
