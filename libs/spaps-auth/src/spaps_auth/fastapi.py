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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from ._access import Predicate, Principal, authorize
from ._apikeys import ApiKeyManager
from ._authenticator import Authenticator
from ._cookies import CookieSigner
from ._errors import (
    AuthenticationError,
    InvalidSignatureError,
    PermissionDeniedError,
    SpapsAuthError,
)
from ._keys import KeySet
from ._middleware import PRINCIPAL_STATE_KEY, AuthenticationMiddleware
from ._problem import problem_response
from ._sessions import SessionManager

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


def set_signed_cookie(
    response: Response,
    signer: CookieSigner,
    name: str,
    value: str,
    *,
    secure: bool = True,
    httponly: bool = True,
    samesite: str = "lax",
    path: str = "/",
) -> None:
    """Set cookie ``name`` to ``value`` signed by ``signer`` (``Max-Age`` = its max age).

    Args:
        response: The response to add the ``Set-Cookie`` header to.
        signer: The cookie signer.
        name: Cookie name.
        value: Plain value to sign.
        secure: ``Secure`` attribute (keep on outside local development).
        httponly: ``HttpOnly`` attribute.
        samesite: ``SameSite`` attribute: ``"lax"``, ``"strict"`` or ``"none"``.
        path: ``Path`` attribute.
    """
    if samesite not in ("lax", "strict", "none"):
        raise ValueError("samesite must be 'lax', 'strict' or 'none'")
    response.set_cookie(
        name,
        signer.sign(value),
        max_age=int(signer.max_age),
        secure=secure,
        httponly=httponly,
        samesite=samesite,  # type: ignore[arg-type]  # validated above
        path=path,
    )


def read_signed_cookie(request: Request, signer: CookieSigner, name: str) -> str | None:
    """The verified value of cookie ``name``; ``None`` when absent, tampered or expired
    (a bad cookie is treated like no cookie).
    """
    raw = request.cookies.get(name)
    if raw is None:
        return None
    try:
        return signer.unsign(raw)
    except InvalidSignatureError:
        return None


def jwks_router(
    keys: KeySet | Callable[[], KeySet],
    *,
    path: str = "/.well-known/jwks.json",
    max_age: int = 300,
) -> APIRouter:
    """A router publishing the public keys of ``keys`` (a set, or a callable returning the
    current set so rotation shows up without a restart).

    Args:
        keys: Key set or provider.
        path: Where to serve the JWKS.
        max_age: ``Cache-Control: max-age`` for verifiers' HTTP caches.
    """
    router = APIRouter()

    @router.get(path, include_in_schema=False)
    async def jwks() -> JSONResponse:
        current = keys() if callable(keys) else keys
        return JSONResponse(
            current.jwks(),
            headers={"Cache-Control": f"public, max-age={max_age}"},
            media_type="application/jwk-set+json",
        )

    return router


class RefreshRequest(BaseModel):
    """Body of ``POST /auth/refresh``."""

    refresh_token: str


class TokenResponse(BaseModel):
    """A token pair (OAuth 2 token-response field names)."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class SessionOut(BaseModel):
    """One of the caller's sessions."""

    id: str
    created_at: str
    last_seen_at: str
    user_agent: str
    ip: str
    current: bool


class ApiKeyIn(BaseModel):
    """Body of ``POST /auth/api-keys``."""

    name: str
    scopes: list[str] = []


class ApiKeyOut(BaseModel):
    """An API key as listed (``key`` only in the creation response)."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None
    revoked: bool
    key: str | None = None


def _sessions(request: Request) -> SessionManager:
    manager = get_auth(request).sessions
    if manager is None:
        raise RuntimeError("setup_auth(app, sessions=...) is required for the session routes")
    return manager


def _api_keys(request: Request) -> ApiKeyManager:
    manager = get_auth(request).api_keys
    if manager is None:
        raise RuntimeError("setup_auth(app, api_keys=...) is required for the API-key routes")
    return manager


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def auth_router(
    *, prefix: str = "/auth", tags: list[str] | None = None, api_keys: bool = True
) -> APIRouter:
    """Routes for the caller's own sessions and API keys, and refresh-token rotation.

    * ``POST {prefix}/refresh`` -- rotate a refresh token.
    * ``POST {prefix}/logout`` -- revoke the current session.
    * ``GET {prefix}/sessions``, ``DELETE {prefix}/sessions/{id}`` -- own devices only.
    * ``GET/POST {prefix}/api-keys``, ``DELETE {prefix}/api-keys/{id}`` -- own keys only.

    Args:
        prefix: Path prefix.
        tags: OpenAPI tags.
        api_keys: Include the API-key routes; pass ``False`` when the app has no
            ``ApiKeyManager`` (``setup_auth(app, api_keys=...)``), so they are not advertised.

    .. versionchanged:: 0.1.0 ``api_keys`` added.
    """
    router = APIRouter(prefix=prefix, tags=list(tags or ["auth"]))

    @router.post("/refresh")
    async def refresh(body: RefreshRequest, request: Request) -> TokenResponse:
        pair = await _sessions(request).refresh(
            body.refresh_token,
            user_agent=request.headers.get("user-agent", ""),
            ip=_client_ip(request),
        )
        return TokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )

    @router.post("/logout", status_code=204)
    async def logout(principal: CurrentPrincipal, request: Request) -> Response:
        if principal.session_id is not None:
            await _sessions(request).revoke(
                principal.subject, principal.session_id, reason="logout"
            )
        return Response(status_code=204)

    @router.get("/sessions")
    async def list_sessions(principal: CurrentPrincipal, request: Request) -> list[SessionOut]:
        infos = await _sessions(request).list_sessions(principal.subject)
        return [
            SessionOut(
                id=i.id,
                created_at=i.created_at.isoformat(),
                last_seen_at=i.last_seen_at.isoformat(),
                user_agent=i.user_agent,
                ip=i.ip,
                current=i.id == principal.session_id,
            )
            for i in infos
        ]

    @router.delete("/sessions/{session_id}", status_code=204)
    async def revoke_session(
        session_id: str, principal: CurrentPrincipal, request: Request
    ) -> Response:
        await _sessions(request).revoke(principal.subject, session_id)
        return Response(status_code=204)

    def _out(record: Any, key: str | None = None) -> ApiKeyOut:
        return ApiKeyOut(
            id=record.id,
            name=record.name,
            prefix=record.prefix,
            scopes=sorted(record.scopes),
            created_at=record.created_at.isoformat(),
            last_used_at=record.last_used_at.isoformat() if record.last_used_at else None,
            revoked=record.revoked_at is not None,
            key=key,
        )

    if not api_keys:
        return router

    @router.get("/api-keys")
    async def list_api_keys(principal: CurrentPrincipal, request: Request) -> list[ApiKeyOut]:
        return [_out(r) for r in await _api_keys(request).list(principal.subject)]

    @router.post("/api-keys", status_code=201)
    async def create_api_key(
        body: ApiKeyIn, principal: CurrentPrincipal, request: Request
    ) -> ApiKeyOut:
        if principal.auth_method != "bearer":
            raise PermissionDeniedError("API keys cannot create API keys")
        extra = set(body.scopes) - principal.permissions
        if extra:
            raise PermissionDeniedError(f"cannot grant scopes you lack: {sorted(extra)}")
        created = await _api_keys(request).create(
            principal.subject, name=body.name, scopes=body.scopes
        )
        return _out(created.record, created.key)

    @router.delete("/api-keys/{key_id}", status_code=204)
    async def revoke_api_key(
        key_id: str, principal: CurrentPrincipal, request: Request
    ) -> Response:
        await _api_keys(request).revoke(principal.subject, key_id)
        return Response(status_code=204)

    return router
