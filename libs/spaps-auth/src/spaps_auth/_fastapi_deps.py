"""FastAPI dependencies over the core: setup, the caller, access checks, error handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from starlette.requests import HTTPConnection

from ._access import Predicate, Principal, authorize
from ._apikeys import ApiKeyManager
from ._authenticator import Authenticator
from ._errors import AuthenticationError, PermissionDeniedError, SpapsAuthError
from ._middleware import PRINCIPAL_STATE_KEY
from ._problem import problem_response
from ._sessions import SessionManager

__all__ = [
    "AuthComponents",
    "CurrentPrincipal",
    "OptionalPrincipal",
    "get_auth",
    "get_optional_principal",
    "get_principal",
    "install_error_handlers",
    "require_access",
    "require_permissions",
    "require_roles",
    "setup_auth",
]

_STATE_KEY = "spaps_auth"


@dataclass(frozen=True)
class AuthComponents:
    """What :func:`setup_auth` stores on ``app.state``."""

    authenticator: Authenticator
    sessions: SessionManager | None = None
    api_keys: ApiKeyManager | None = None


def setup_auth(
    app: FastAPI,
    *,
    authenticator: Authenticator,
    sessions: SessionManager | None = None,
    api_keys: ApiKeyManager | None = None,
) -> AuthComponents:
    """Attach the auth components to ``app`` (read by the dependencies and routers).

    Args:
        app: The application.
        authenticator: Authenticates requests.
        sessions: Enables the refresh/session routes of :func:`auth_router`.
        api_keys: Enables the API-key routes of :func:`auth_router`; defaults to the
            authenticator's manager.
    """
    components = AuthComponents(authenticator, sessions, api_keys or authenticator.api_keys)
    setattr(app.state, _STATE_KEY, components)
    return components


def get_auth(request: HTTPConnection) -> AuthComponents:
    """The components set by :func:`setup_auth`; fails loudly when setup was skipped.

    .. versionchanged:: 0.2.0 Accepts any ``HTTPConnection`` (also WebSockets).
    """
    components = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(components, AuthComponents):
        raise RuntimeError("spaps-auth is not set up on this app: call setup_auth(app, ...)")
    return components


async def get_optional_principal(request: HTTPConnection) -> Principal | None:
    """The caller, or ``None`` when the request carries no credentials (invalid ones: 401).

    Behind :class:`AuthenticationMiddleware` this is the principal the middleware found
    (no second verification); otherwise the request is authenticated here.

    .. versionchanged:: 0.2.0 Uses the result of :class:`AuthenticationMiddleware`;
       accepts any ``HTTPConnection`` (also WebSockets).
    """
    state = request.scope.get("state")
    if state is not None and PRINCIPAL_STATE_KEY in state:
        principal: Principal | None = state[PRINCIPAL_STATE_KEY]
        return principal
    return await get_auth(request).authenticator.authenticate(request.headers)


async def get_principal(request: HTTPConnection) -> Principal:
    """The authenticated caller; 401 when credentials are missing or invalid.

    Behind :class:`AuthenticationMiddleware` this is the principal the middleware found
    (no second verification); otherwise the request is authenticated here.

    .. versionchanged:: 0.2.0 Uses the result of :class:`AuthenticationMiddleware`;
       accepts any ``HTTPConnection`` (also WebSockets).
    """
    principal = await get_optional_principal(request)
    if principal is None:
        raise AuthenticationError("missing credentials")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency: the caller must hold at least one of ``roles`` (else 403)."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    wanted = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if wanted.isdisjoint(principal.roles):
            raise PermissionDeniedError(f"requires one of the roles {sorted(wanted)}")
        return principal

    return dependency


def require_permissions(*permissions: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency: the caller must have every one of ``permissions`` (else 403)."""
    if not permissions:
        raise ValueError("require_permissions needs at least one permission")
    wanted = frozenset(permissions)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = wanted - principal.permissions
        if missing:
            raise PermissionDeniedError(f"missing permissions {sorted(missing)}")
        return principal

    return dependency


def require_access(
    predicate: Predicate, resource: Callable[..., Any]
) -> Callable[..., Awaitable[Any]]:
    """Dependency: load the resource with the ``resource`` dependency, then apply an ABAC
    ``predicate``; returns the resource when allowed (else 403).

    Args:
        predicate: E.g. ``any_of(is_owner(), has_permission("notes:read_all"))``.
        resource: A FastAPI dependency returning the resource (may use path params).
    """

    async def dependency(principal: CurrentPrincipal, obj: Any = Depends(resource)) -> Any:  # noqa: B008 - FastAPI dependency declaration
        authorize(principal, obj, predicate)
        return obj

    return dependency


def install_error_handlers(app: FastAPI) -> None:
    """Answer spaps-auth errors with their status as problem+json (apps without spaps-ops)."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, SpapsAuthError):  # registered for this class only
            raise exc
        return problem_response(exc)

    app.add_exception_handler(SpapsAuthError, handler)
