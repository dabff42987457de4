"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

from typing import Any

import httpx
import prometheus_client
from fastapi import Depends, FastAPI
from spaps_auth import MailSender, PasswordHasher, SpapsAuthError
from spaps_auth.fastapi import auth_router, jwks_router, setup_auth
from spaps_jobs import SpapsJobsError
from spaps_ops import (
    ErrorCode,
    document_problems,
    error_codes_of,
    get_ops,
    get_request_id,
)
from spaps_ops import create_app as ops_create_app
from spaps_ops.db import Database, migration_check, use_database
from spaps_ratelimit import MemoryStore, RateLimiter, RedisStore, SpapsRatelimitError, Store
from spaps_webhooks import SpapsWebhooksError
from spaps_webhooks.fastapi import create_webhooks_router
from spaps_webhooks.fastapi import install_error_handlers as install_webhook_error_handlers
from sqlalchemy.ext.asyncio import AsyncSession

from htma.accounts.router import router as users_router
from htma.catalog.router import catalog_router, ingredient_receiver
from htma.clinics.invitations import router as invitations_router
from htma.db import OUTBOX, create_sessionmaker
from htma.deps import Services, no_hook, webhook_owner
from htma.erasure.router import router as erasure_router
from htma.erasure.router import status_router as erasure_status_router
from htma.error_docs import (
    OPERATION_ERRORS,
    PLAN_LIMITED,
    SECURED_ERRORS,
    document_refresh,
)
from htma.errors import ERROR_CODES
from htma.graphql import graphql_api
from htma.idempotency_docs import document_idempotency
from htma.identity.credentials_router import router as credentials_router
from htma.identity.router import router as identity_router
from htma.identity.stack import Clock, build_auth
from htma.layers import PUBLIC_OPERATIONS, request_layers
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

#: The libraries whose problem codes htma can answer with (spaps-ops registers its own).
LIBRARY_ERRORS = (SpapsAuthError, SpapsJobsError, SpapsRatelimitError, SpapsWebhooksError)
TAGS = [
    {"name": "identity", "description": "Sign-up, login, TOTP, passwords and sessions."},
    {"name": "clinics", "description": "Invitations: how users join a clinic."},
    {"name": "users", "description": "The caller and the clinic's users."},
    {"name": "panels", "description": "Mineral panels and their computed results."},
    {"name": "messages", "description": "Messages between patients and practitioners."},
    {"name": "webhooks", "description": "The clinic's webhook endpoints and deliveries."},
    {"name": "erasure", "description": "Erasing a clinic or a user: a queued job to poll."},
    {"name": "catalog", "description": "Ingredient catalog changes received from ingredient."},
]
OPENAPI = {
    "description": DESCRIPTION,
    "openapi_tags": TAGS,
    "license_info": {"name": "MIT", "identifier": "MIT"},
    "servers": [{"url": "http://127.0.0.1:8000", "description": "A local htma"}],
}
BEARER = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
#: Descriptions of the routes included from spaps-auth and spaps-webhooks.
LIBRARY_DOCS = {
    "refresh": "Trade a refresh token for a new pair; the old one stops working (reuse "
    "revokes the whole session).",
    "logout": "End the caller's session: its refresh token stops working.",
    "list_sessions": "The caller's active sessions (device, address, last use).",
    "revoke_session": "End one of the caller's sessions.",
    "list_event_types": "The webhook event types an endpoint can subscribe to, with schemas.",
    "list_endpoints": "The clinic's webhook endpoints.",
    "create_endpoint": "Register an endpoint; the answer shows its signing secret once.",
    "get_endpoint": "One webhook endpoint.",
    "update_endpoint": "Change an endpoint's URL, event types, description or state.",
    "delete_endpoint": "Remove an endpoint; pending deliveries to it are dropped.",
    "disable_endpoint": "Stop deliveries to an endpoint.",
    "enable_endpoint": "Resume deliveries to an endpoint.",
    "rotate_secret": "A new signing key; the old one stays valid.",  # pragma: allowlist secret
    "test_fire": "Send a test event to the endpoint now and report the attempt.",
    "endpoint_attempts": "The endpoint's recent delivery attempts.",
    "message_deliveries": "Where an event message was delivered, and how it went.",
    "message_attempts": "Every delivery attempt of an event message.",
    "replay_message": "Deliver an event message again to its endpoints.",
    "replay_since": "Deliver again every message since a time (optionally failed ones only).",
}
_ENDPOINT = {
    "id": "ep_01J9Z2", "owner": "clinic-a", "url": "https://example.org/hooks",
    "description": "Results feed", "event_types": ["result.ready.v1"], "enabled": True,
    "disabled_reason": None, "failing_since": None, "rotating_until": None,
    "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z",
}  # fmt: skip
_DELIVERY = {
    "id": "dl_01J9Z3", "message_id": "msg_01J9Z4", "endpoint_id": "ep_01J9Z2",
    "status": "succeeded", "attempts": 1, "next_attempt_at": None, "last_status_code": 200,
    "last_error": None, "created_at": "2026-01-05T09:01:00Z",
    "completed_at": "2026-01-05T09:01:01Z",
}  # fmt: skip
_ATTEMPT = {
    "id": 1, "delivery_id": "dl_01J9Z3", "message_id": "msg_01J9Z4", "endpoint_id": "ep_01J9Z2",
    "number": 1, "started_at": "2026-01-05T09:01:00Z", "status_code": 200, "latency_ms": 84.0,
    "response_excerpt": "ok", "error": None, "succeeded": True,
}  # fmt: skip
#: Example bodies of the schemas spaps-auth and spaps-webhooks give no example.
LIBRARY_EXAMPLES = {
    "RefreshRequest": {"refresh_token": "rt_Jx7..."},
    "TokenResponse": {"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Imh0bWEtMjAyNi...",
                      "refresh_token": "rt_Jx7...", "token_type": "Bearer", "expires_in": 900},
    "SessionOut": {"id": "ses_01J9Z1", "created_at": "2026-01-05T09:00:00Z",
                   "last_seen_at": "2026-01-05T09:30:00Z", "user_agent": "Mozilla/5.0",
                   "ip": "203.0.113.7", "current": True},
    "EventTypeInfo": {"type": "result.ready.v1", "name": "result.ready", "version": 1,
                      "description": "A panel's result is computed.", "schema": {}},
    "Endpoint": _ENDPOINT,
    "EndpointWithSecret": {**_ENDPOINT, "secret": "whsec_..."},  # pragma: allowlist secret
    "EndpointCreate": {"url": "https://example.org/hooks", "event_types": ["result.ready.v1"],
                       "description": "Results feed"},
    "EndpointUpdate": {"enabled": False},
    "RotateRequest": {"overlap_seconds": 86400},
    "ReplayRequest": {"since": "2026-01-05T00:00:00Z", "failed_only": True},
    "Delivery": _DELIVERY,
    "Attempt": _ATTEMPT,
    "FireResult": {"message_id": "msg_01J9Z4", "delivery": _DELIVERY, "attempt": _ATTEMPT},
    # The schemas' own examples abbreviate the token below its 16-character minimum.
    "ResetConfirmIn": {"email": "pat@northside.example", "token": "Jx7-example-reset-link",
                       "password": "a new long passphrase"},  # pragma: allowlist secret
    "AcceptIn": {"token": "Jx7-example-invitation", "email": "pat@northside.example",
                 "display_name": "Pat Patient",
                 "password": "a long passphrase here"},  # pragma: allowlist secret
    "replay_message": {"ep_01J9Z2": ["dl_01J9Z5"]},
    "replay_since": {"ep_01J9Z2": ["dl_01J9Z5", "dl_01J9Z6"]},
}  # fmt: skip


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
    database = Database(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.database_statement_timeout,
        pool_timeout=settings.database_pool_timeout,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    auth = build_auth(settings, database.engine, hasher=hasher, mail=mail_sender, clock=clock)
    own_store = ratelimit_store is None
    if ratelimit_store is None:
        redis_url = settings.redis_url
        ratelimit_store = RedisStore.from_url(redis_url) if redis_url else MemoryStore()
    limiter = RateLimiter(ratelimit_store)
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
        middleware=request_layers(
            database.engine, authenticator=auth.authenticator, limiter=limiter
        ),
        **ops_options,
    )
    ops = get_ops(app)
    if ops.metrics is not None:  # /metrics also serves spaps-jobs' (global) job metrics
        ops.metrics.expose(prometheus_client.REGISTRY)
    use_database(app, database)
    ops.add_check("migrations", migration_check(database.engine, MIGRATIONS_DIR))
    if own_store:  # a store the caller passed is the caller's to close
        ops.add_resource(limiter)
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
    document_refresh(identity_sessions)
    app.include_router(identity_sessions)
    app.include_router(jwks_router(auth.keys))
    per_clinic: dict[str, Any] = {
        "dependencies": [Depends(clinic_limit(settings.plans))],
        "responses": PLAN_LIMITED,
    }
    app.include_router(users_router, **per_clinic)
    app.include_router(panels_router, **per_clinic)
    app.include_router(messages_router, **per_clinic)
    app.include_router(erasure_router, **per_clinic)
    app.include_router(erasure_status_router)
    app.include_router(graphql_api(settings, limiter=limiter), include_in_schema=False)
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
    document_problems(
        app, public=PUBLIC_OPERATIONS, secured=SECURED_ERRORS, security_schemes=BEARER,
        security=[{"bearerAuth": []}], descriptions=LIBRARY_DOCS, examples=LIBRARY_EXAMPLES,
        operation_errors=OPERATION_ERRORS,
    )  # fmt: skip
    document_idempotency(app)
    return app
