"""Routers: the JWKS document, and the caller's sessions, API keys and token refresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ._apikeys import ApiKeyManager
from ._errors import PermissionDeniedError
from ._fastapi_deps import CurrentPrincipal, get_auth
from ._keys import KeySet
from ._sessions import SessionManager

__all__ = [
    "ApiKeyIn",
    "ApiKeyOut",
    "RefreshRequest",
    "SessionOut",
    "TokenResponse",
    "auth_router",
    "jwks_router",
]


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
