"""The apps the whole-backbone benchmark serves; each is an ASGI factory for ``uvicorn --factory``.

Every throughput app serves ``GET /v1/items`` with the same handler body: the items of
one tenant from an in-memory table. What differs is the stack in front of it:

* ``spaps``: ``spaps_ops.create_app`` (request id, access log, metrics, security
  headers, strict CORS, maintenance, problem+json, probes) with the other libraries as
  pure-ASGI layers, the composition their guides recommend: spaps-auth's
  ``AuthenticationMiddleware`` verifies the bearer token, spaps-tenancy's
  ``TenantMiddleware`` takes the tenant from its claims (``claim_resolver``) and
  spaps-ratelimit's ``RateLimitMiddleware`` decides the route's ``RouteLimit``, keyed by
  that tenant, on Redis;
* ``spaps_deps`` (reference): the same libraries as FastAPI dependencies instead --
  ``CurrentPrincipal``, a generator dependency entering ``tenant_context`` and the
  ``RouteLimit`` dependency -- so the report shows what the layering saves;
* ``template``: the usual template stack -- asgi-correlation-id,
  prometheus-fastapi-instrumentator, a ``BaseHTTPMiddleware`` security-headers
  middleware, a sync (``def``) PyJWT dependency and slowapi on Redis;
* ``bare``: FastAPI with the route only (the tenant is fixed, nothing is checked);
* ``ops`` and ``ops_auth`` (references): the spaps-ops shell alone, and with auth and
  tenancy (as layers) but no rate limit.

``login`` is a spaps-ops app with ``POST /login`` hashing with
``spaps_auth.PasswordHasher`` (argon2id, OWASP parameters), for the probe-latency case.

The apps with a verified-token cache answer ``GET /bench/cache`` with its statistics
(``_probe.CacheProbe``, outermost), so the driver prints the hit rate beside each figure.
The driver signs one token per user (10,000 users, the tenants ``acme`` and ``globex``
alternating).

Configuration comes from the environment the driver sets: ``BENCH_REDIS_URL``,
``BENCH_PREFIX`` (a fresh Redis namespace per run) and ``BENCH_JWT_SECRET`` (hex of the
HS256 secret the driver signed its token with).
"""

# No ``from __future__ import annotations``: slowapi wraps the template's endpoint, and
# FastAPI must read the wrapped function's annotations as objects, not strings.

import atexit
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import jwt
from _probe import CacheProbe
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import BaseModel
from slowapi import Limiter as SlowLimiter
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from spaps_auth import (
    Authenticator,
    InvalidCredentialsError,
    JsonWebKey,
    KeySet,
    PasswordHasher,
    PasswordLogin,
    PermissionDeniedError,
    TokenVerifier,
)
from spaps_auth.fastapi import AuthenticationMiddleware, CurrentPrincipal, setup_auth
from spaps_ops import OpsSettings, create_app, get_ops
from spaps_ratelimit import Limit, RateLimiter, RateLimitMiddleware, RedisStore, RouteLimit
from spaps_ratelimit.integration import setup as setup_ratelimit
from spaps_tenancy import (
    TenantMiddleware,
    claim_resolver,
    get_tenant,
    tenant_context,
    tenant_rate_limit_key,
)
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp

#: Shared with the driver, which signs the token.
ISSUER = "bench-backbone"
AUDIENCE = "bench"
KID = "bench-key"
TENANT_CLAIM = "tenant_id"
HIGH = 1_000_000_000  # requests per hour: never reached in a benchmark run
PASSWORD = "correct horse battery staple"  # noqa: S105 -- the benchmark's only account

#: The "database": each tenant sees only its own rows.
ITEMS: dict[str, list[dict[str, Any]]] = {
    tenant: [{"id": i, "tenant": tenant, "name": f"item {i}"} for i in range(3)]
    for tenant in ("acme", "globex")
}


def items_of(tenant: str) -> dict[str, Any]:
    """The handler body every case shares: the tenant's rows."""
    return {"tenant": tenant, "items": ITEMS.get(tenant, [])}


#: Where the apps' logs go: nowhere, so no terminal is the bottleneck; one stream for
#: the process, closed at exit.
_LOG_STREAM = open(os.devnull, "w")  # noqa: SIM115 -- lives as long as the process
atexit.register(_LOG_STREAM.close)


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _prefix() -> str:
    return os.environ.get("BENCH_PREFIX", "bench:backbone:")


def _secret() -> bytes:
    return bytes.fromhex(os.environ["BENCH_JWT_SECRET"])


def _quiet_settings() -> OpsSettings:
    return OpsSettings(cors_origins=["https://app.example.com"], _env_file=None)  # type: ignore[call-arg]  # pydantic-settings init option


def _verifier() -> TokenVerifier:
    keys = KeySet([JsonWebKey.from_secret(_secret(), kid=KID)])
    return TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"])


def _limiter() -> RateLimiter:
    return RateLimiter(RedisStore.from_url(_redis_url(), prefix=_prefix() + "spaps:"))


#: Served without a token or tenant: the API documents (probes and metrics are answered
#: by spaps-ops before the app's own middleware).
PUBLIC_PATHS = ("/docs", "/redoc", "/openapi.json")


def _spaps(*, authenticated: bool, limited: bool) -> ASGIApp:
    """The spaps stack with auth, tenancy and the rate limit as pure-ASGI layers."""
    layers: list[Middleware] = []
    verifier = _verifier()
    authenticator = Authenticator(verifier=verifier)
    if authenticated:
        layers.append(
            Middleware(
                AuthenticationMiddleware,
                authenticator=authenticator,
                required=True,
                public_paths=PUBLIC_PATHS,
            )
        )
        layers.append(
            Middleware(
                TenantMiddleware,
                resolver=claim_resolver(TENANT_CLAIM),
                exempt_paths=PUBLIC_PATHS,
            )
        )
    limiter = _limiter() if limited else None
    if limiter is not None:
        layers.append(Middleware(RateLimitMiddleware, limiter=limiter))
    app = create_app(
        _quiet_settings(),
        middleware=layers,
        resources=[limiter] if limiter is not None else [],  # closed at shutdown
        log_stream=_LOG_STREAM,
    )
    setup_auth(app, authenticator=authenticator)

    async def list_items() -> dict[str, Any]:
        return items_of(_tenant() if authenticated else "acme")

    if limited:
        per_tenant = RouteLimit(Limit.per_hour(HIGH), key=tenant_rate_limit_key(), name="items")
        list_items = per_tenant.decorate(list_items)  # decided by RateLimitMiddleware
    app.get("/v1/items")(list_items)
    return CacheProbe(app, lambda: verifier) if authenticated else app


def spaps_deps() -> ASGIApp:
    """Reference: auth, tenancy and the rate limit as FastAPI dependencies."""
    verifier = _verifier()
    authenticator = Authenticator(verifier=verifier)
    app = create_app(
        _quiet_settings(),
        log_stream=_LOG_STREAM,
    )
    setup_auth(app, authenticator=authenticator)

    async def caller_tenant(principal: CurrentPrincipal) -> AsyncIterator[str]:
        """The rest of the request runs inside the token's tenant."""
        tenant = principal.claims.get(TENANT_CLAIM)
        if not isinstance(tenant, str):
            raise PermissionDeniedError("the token names no tenant")
        with tenant_context(tenant):
            yield tenant

    limiter = _limiter()
    get_ops(app).add_resource(limiter)  # closed at shutdown
    setup_ratelimit(app, limiter, error_handlers=False)  # spaps-ops renders its errors
    per_tenant = RouteLimit(Limit.per_hour(HIGH), key=tenant_rate_limit_key(), name="items")

    @app.get("/v1/items", dependencies=[Depends(caller_tenant), Depends(per_tenant)])
    async def list_items() -> dict[str, Any]:
        return items_of(_tenant())

    return CacheProbe(app, lambda: verifier)


def _tenant() -> str:
    tenant = get_tenant()
    if tenant is None:
        raise RuntimeError("no tenant context: caller_tenant did not run")
    return tenant


def spaps() -> ASGIApp:
    """The spaps backbone: ops shell + auth + tenancy + Redis rate limit."""
    return _spaps(authenticated=True, limited=True)


def ops() -> ASGIApp:
    """Reference: the spaps-ops shell only (fixed tenant, no auth, no limit)."""
    return _spaps(authenticated=False, limited=False)


def ops_auth() -> ASGIApp:
    """Reference: spaps-ops + auth + tenancy, without the rate limit."""
    return _spaps(authenticated=True, limited=False)


async def _security_headers(request: Request, call_next: Any) -> Any:
    response = await call_next(request)
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def template() -> FastAPI:
    """The typical template stack."""
    secret = _secret()
    bearer = HTTPBearer()

    def current_claims(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> dict[str, Any]:
        # A sync dependency, as templates write it: FastAPI runs it in the thread pool.
        claims: dict[str, Any] = jwt.decode(
            credentials.credentials,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
        )
        return claims

    limiter = SlowLimiter(
        key_func=get_remote_address, storage_uri=_redis_url(), key_prefix=_prefix() + "slowapi"
    )
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]  # slowapi's handler is narrower than Starlette's type
    app.add_middleware(BaseHTTPMiddleware, dispatch=_security_headers)
    app.add_middleware(CorrelationIdMiddleware)
    Instrumentator().instrument(app).expose(app)

    @app.get("/v1/items")
    @limiter.limit(f"{HIGH}/hour")
    async def list_items(
        request: Request, claims: Annotated[dict[str, Any], Depends(current_claims)]
    ) -> dict[str, Any]:
        return items_of(claims[TENANT_CLAIM])

    return app


def bare() -> FastAPI:
    """FastAPI with the same handler and nothing in front of it."""
    app = FastAPI()

    @app.get("/v1/items")
    async def list_items() -> dict[str, Any]:
        return items_of("acme")

    return app


class LoginIn(BaseModel):
    """Login body."""

    username: str
    password: str


def login() -> FastAPI:
    """A spaps-ops app with a password login route (argon2id at OWASP parameters)."""
    hasher = PasswordHasher()
    users = {"alice": hasher.hash_sync(PASSWORD)}
    check = PasswordLogin(hasher=hasher)
    app = create_app(
        _quiet_settings(),
        resources=[hasher],
        log_stream=_LOG_STREAM,
    )

    @app.post("/login")
    async def do_login(body: LoginIn) -> dict[str, bool]:
        try:
            await check.verify(body.username, body.password, users.get(body.username))
        except InvalidCredentialsError:
            return {"ok": False}
        return {"ok": True}

    return app
