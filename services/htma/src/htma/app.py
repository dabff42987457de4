"""Application factory: ``create_app(settings)`` builds a configured app; no globals."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from spaps_auth import PasswordHasher
from spaps_auth.fastapi import auth_router, jwks_router, setup_auth
from spaps_ops import ErrorCode, get_ops
from spaps_ops import create_app as ops_create_app
from spaps_ops.db import Database, migration_check, use_database
from spaps_tenancy import tenant_context

from htma.accounts.router import router as users_router
from htma.db import create_sessionmaker
from htma.deps import Services
from htma.errors import ERROR_CODES
from htma.identity.router import router as identity_router
from htma.identity.stack import build_auth
from htma.messaging.router import router as messages_router
from htma.migrate import MIGRATIONS_DIR
from htma.panels.models import Panel
from htma.panels.router import router as panels_router
from htma.results.service import compute_result
from htma.settings import Settings

DESCRIPTION = """\
Hair-tissue mineral analysis lab and identity provider.

Clinics are tenants; users are patients, practitioners or lab admins. Practitioners
submit mineral panels (mg%); a job computes the ratios Ca/Mg, Na/K, Ca/P, Zn/Cu, Fe/Cu
and Ca/K against documented reference ranges. Patients and practitioners exchange
messages encrypted at rest. Tokens are EdDSA JWTs; the keys are published at
`/.well-known/jwks.json`. Errors are `application/problem+json`.
"""


def create_app(
    settings: Settings | None = None, *, hasher: PasswordHasher | None = None, **ops_options: Any
) -> FastAPI:
    """Build the htma app on the spaps-ops shell.

    Reads (or creates) the token signing key file named by ``settings.signing_keys_path``.

    Args:
        settings: configuration; read from the environment (``HTMA_*``) when omitted.
        hasher: password hasher (default argon2id at OWASP parameters; tests pass a
            cheaper one).
        ops_options: passed to :func:`spaps_ops.create_app` (e.g. ``log_stream``).
    """
    settings = settings if settings is not None else Settings()
    app = ops_create_app(
        settings,
        error_codes=[ErrorCode(e.code, e.status, e.title, e.__doc__ or "") for e in ERROR_CODES],
        fastapi_options={"description": DESCRIPTION},
        **ops_options,
    )
    database = use_database(app, Database(settings.database_url))
    get_ops(app).add_check("migrations", migration_check(database.engine, MIGRATIONS_DIR))
    auth = build_auth(settings, database.engine, hasher=hasher)
    sessions = create_sessionmaker(database.engine)

    async def compute_inline(panel: Panel) -> None:
        with tenant_context(panel.tenant_id):
            async with sessions() as session:
                await compute_result(session, panel.id)

    app.state.htma = Services(
        settings=settings,
        auth=auth,
        sessions=sessions,
        cipher=settings.message_cipher(),
        after_commit=compute_inline,
    )
    setup_auth(app, authenticator=auth.authenticator, sessions=auth.sessions)
    app.include_router(identity_router)
    app.include_router(auth_router(prefix="/v1/auth", tags=["identity"]))
    app.include_router(jwks_router(auth.keys))
    app.include_router(users_router)
    app.include_router(panels_router)
    app.include_router(messages_router)
    return app
