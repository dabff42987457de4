"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Depends, FastAPI
from spaps_auth import MailSender, PasswordHasher
from spaps_auth.fastapi import auth_router, jwks_router, setup_auth
from spaps_jobs import AsyncSqlDedupeStore, IdempotencyMiddleware
from spaps_ops import ErrorCode, document_problems, get_ops, get_request_id, openapi_problem
from spaps_ops import create_app as ops_create_app
from spaps_ops.db import Database, migration_check, use_database
from spaps_ratelimit import MemoryStore, RateLimiter, RedisStore, Store
from spaps_ratelimit.integration import setup as setup_ratelimit
from spaps_webhooks.fastapi import create_webhooks_router
from spaps_webhooks.fastapi import install_error_handlers as install_webhook_error_handlers
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware import Middleware

from htma.accounts.router import router as users_router
from htma.catalog.router import catalog_router, ingredient_receiver
from htma.clinics.invitations import router as invitations_router
from htma.db import OUTBOX, Base, create_sessionmaker
from htma.deps import Services, no_hook, webhook_owner
from htma.errors import ERROR_CODES
from htma.identity.credentials_router import router as credentials_router
from htma.identity.router import router as identity_router
from htma.identity.stack import Clock, build_auth
from htma.limits import clinic_limit
from htma.messaging.router import router as messages_router
from htma.migrate import MIGRATIONS_DIR
from htma.panels.models import Panel
from htma.panels.router import router as panels_router
from htma.runtime import PANEL_SUBMITTED, build_runtime, process_panel
from htma.settings import Settings

DESCRIPTION = """\
Hair-tissue mineral analysis lab and identity provider.

Clinics are tenants; users are patients, practitioners or lab admins. Practitioners
submit mineral panels (mg%); a job computes the ratios Ca/Mg, Na/K, Ca/P, Zn/Cu, Fe/Cu
and Ca/K against documented reference ranges, fetches foods for deficient minerals
from the ingredient service and publishes a `result.ready.v1` webhook. Patients and
practitioners exchange messages encrypted at rest. Tokens are EdDSA JWTs; the keys
are published at `/.well-known/jwks.json`. Errors are `application/problem+json`.
"""

#: Reachable without an access token (webhooks carry a signature instead).
PUBLIC_PATHS = frozenset({
    "/v1/auth/signup", "/v1/auth/login", "/v1/hooks/ingredient", "/v1/auth/invitations/accept",
    "/v1/auth/password/reset", "/v1/auth/password/reset/confirm",
})  # fmt: skip
#: What the auth and tenancy stack answers on every other route.
SECURED_ERRORS = {
    401: "Missing, invalid or expired credentials",
    403: "The role lacks the permission, or the resource belongs to another clinic",
}


def create_app(
    settings: Settings | None = None,
    *,
    hasher: PasswordHasher | None = None,
    ingredient_transport: httpx.AsyncBaseTransport | None = None,
    ratelimit_store: Store | None = None,
    mail_sender: MailSender | None = None,
    clock: Clock | None = None,
    **ops_options: Any,
) -> FastAPI:
    """Build the htma app on the spaps-ops shell.

    Reads (or creates) the token signing key file named by ``settings.signing_keys_path``.

    Args:
        settings: configuration; read from the environment (``HTMA_*``) when omitted.
        hasher: password hasher (default argon2id at OWASP parameters; tests pass a
            cheaper one).
        ingredient_transport: httpx transport to ingredient (default: the network).
        ratelimit_store: the rate limits' counters (default: Redis at
            ``settings.redis_url``, else in memory; tests pass a ``MemoryStore`` on a
            ``spaps_ratelimit.testing.ManualClock``).
        mail_sender: sends invitations and password-reset links (default: logged on
            ``htma.mail``; production passes a real transport).
        clock: the time of invitations and reset links (tests pass a settable one).
        ops_options: passed to :func:`spaps_ops.create_app` (e.g. ``log_stream``).
    """
    settings = settings if settings is not None else Settings()
    database = Database(settings.database_url)
    # Creating POSTs (sign-up, users, panels, messages, endpoints) honour Idempotency-Key:
    # a retried request replays the first response instead of creating a second row.
    idempotency = Middleware(
        IdempotencyMiddleware,
        store=AsyncSqlDedupeStore(database.engine, metadata=Base.metadata),
        methods=("POST",),
    )
    app = ops_create_app(
        settings,
        error_codes=[ErrorCode(e.code, e.status, e.title, e.__doc__ or "") for e in ERROR_CODES],
        fastapi_options={"description": DESCRIPTION},
        middleware=[idempotency],
        **ops_options,
    )
    ops = get_ops(app)
    use_database(app, database)
    ops.add_check("migrations", migration_check(database.engine, MIGRATIONS_DIR))
    auth = build_auth(settings, database.engine, hasher=hasher, mail=mail_sender, clock=clock)
    sessions = create_sessionmaker(database.engine)
    runtime = ops.add_resource(
        build_runtime(settings, issuer=auth.issuer, ingredient_transport=ingredient_transport)
    )

    async def enqueue(session: AsyncSession, panel: Panel) -> None:
        # In the panel's transaction: the worker gets it if and only if it commits.
        payload = {"panel_id": panel.id, "clinic": panel.tenant_id, "request_id": get_request_id()}
        OUTBOX.add(session, PANEL_SUBMITTED, payload)

    async def compute_inline(panel: Panel) -> None:
        await process_panel(
            runtime, sessions, panel_id=panel.id, clinic=panel.tenant_id,
            request_id=get_request_id(),
        )  # fmt: skip

    worker = settings.compute_mode == "worker"
    app.state.htma = Services(
        settings=settings,
        auth=auth,
        sessions=sessions,
        cipher=settings.message_cipher(),
        runtime=runtime,
        submitted=enqueue if worker else no_hook,
        after_commit=no_hook if worker else compute_inline,
    )
    setup_auth(app, authenticator=auth.authenticator, sessions=auth.sessions)
    app.include_router(identity_router)
    app.include_router(credentials_router)
    app.include_router(invitations_router)
    identity_sessions = auth_router(prefix="/v1/auth", tags=["identity"])
    # htma issues tokens, not API keys: keep refresh, logout and sessions only.
    identity_sessions.routes = [
        r for r in identity_sessions.routes if "/api-keys" not in getattr(r, "path", "")
    ]
    app.include_router(identity_sessions)
    app.include_router(jwks_router(auth.keys))
    if ratelimit_store is None:
        redis_url = settings.redis_url
        ratelimit_store = RedisStore.from_url(redis_url) if redis_url else MemoryStore()
    setup_ratelimit(app, RateLimiter(ratelimit_store), error_handlers=False)
    per_clinic: dict[str, Any] = {
        "dependencies": [Depends(clinic_limit(settings.plans))],
        "responses": {429: openapi_problem("The clinic's plan allows no more requests for now")},
    }
    app.include_router(users_router, **per_clinic)
    app.include_router(panels_router, **per_clinic)
    app.include_router(messages_router, **per_clinic)
    app.include_router(
        create_webhooks_router(runtime.webhooks, owner=webhook_owner), prefix="/v1/webhooks"
    )
    if settings.ingredient_webhook_secrets:
        receiver = ingredient_receiver(
            [s.get_secret_value() for s in settings.ingredient_webhook_secrets], database.engine
        )
        app.include_router(catalog_router(receiver))
        # A replayed webhook-id is answered 200 (webhooks.duplicate) so the sender stops;
        # spaps-ops only renders 4xx/5xx problems, so let spaps-webhooks answer its own.
        install_webhook_error_handlers(app)
    document_problems(app, public=PUBLIC_PATHS, secured=SECURED_ERRORS)
    return app
