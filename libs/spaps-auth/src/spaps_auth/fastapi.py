"""FastAPI integration: dependencies, routers and error handlers over the core.

Typical wiring::

    app = FastAPI()
    authenticator = Authenticator(verifier=verifier)
    setup_auth(app, authenticator=authenticator, sessions=manager)
    install_error_handlers(app)
    app.add_middleware(AuthenticationMiddleware, authenticator=authenticator)  # optional
    app.include_router(auth_router())
    app.include_router(jwks_router(keys))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from ._fastapi_cookies import read_signed_cookie, set_signed_cookie
from ._fastapi_deps import (
    AuthComponents,
    CurrentPrincipal,
    OptionalPrincipal,
    get_auth,
    get_optional_principal,
    get_principal,
    install_error_handlers,
    require_access,
    require_permissions,
    require_roles,
    setup_auth,
)

# The request and response models of ``auth_router`` stay importable from this module,
# though not in ``__all__``: ``X as X`` is the explicit re-export mypy strict recognises.
from ._fastapi_routes import ApiKeyIn as ApiKeyIn  # noqa: PLC0414
from ._fastapi_routes import ApiKeyOut as ApiKeyOut  # noqa: PLC0414
from ._fastapi_routes import RefreshRequest as RefreshRequest  # noqa: PLC0414
from ._fastapi_routes import SessionOut as SessionOut  # noqa: PLC0414
from ._fastapi_routes import TokenResponse as TokenResponse  # noqa: PLC0414
from ._fastapi_routes import auth_router, jwks_router
from ._middleware import AuthenticationMiddleware
from ._problem import problem_response

__all__ = [
    "AuthComponents",
    "AuthenticationMiddleware",
    "CurrentPrincipal",
    "OptionalPrincipal",
    "auth_router",
    "get_auth",
    "get_optional_principal",
    "get_principal",
    "install_error_handlers",
    "jwks_router",
    "problem_response",
    "read_signed_cookie",
    "require_access",
    "require_permissions",
    "require_roles",
    "set_signed_cookie",
    "setup_auth",
]
