"""AuthenticationMiddleware: one verification per request, request state, 401 / 1008."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, WebSocket
from spaps_auth import (
    ApiKeyManager,
    Authenticator,
    KeySet,
    PermissionRegistry,
    TokenIssuer,
    TokenVerifier,
)
from spaps_auth.fastapi import (
    AuthenticationMiddleware,
    CurrentPrincipal,
    OptionalPrincipal,
    install_error_handlers,
    require_permissions,
    setup_auth,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"


class Revocations:
    """A revocation checker that counts its calls: one call is one token verification."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.calls = 0

    async def is_revoked(self, jti: str, session_id: str | None) -> bool:
        self.calls += 1
        return jti in self.revoked


@pytest.fixture
def revocations() -> Revocations:
    return Revocations()


@pytest.fixture
def authenticator(
    keys: KeySet, registry: PermissionRegistry, revocations: Revocations, engine: AsyncEngine
) -> Authenticator:
    verifier = TokenVerifier(
        keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"], revocation=revocations
    )
    return Authenticator(verifier=verifier, registry=registry, api_keys=ApiKeyManager(engine))


class Calls:
    """Which routes the app actually ran."""

    def __init__(self) -> None:
        self.routes: list[str] = []


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def make_auth_app(authenticator: Authenticator, calls: Calls) -> Callable[..., FastAPI]:
    """A tiny app with auth set up, with or without the middleware."""

    def factory(*, middleware: bool = True) -> FastAPI:
        app = FastAPI()
        setup_auth(app, authenticator=authenticator)
        install_error_handlers(app)
        if middleware:
            app.add_middleware(AuthenticationMiddleware, authenticator=authenticator)

        @app.get("/public")
        async def public(request: Request) -> dict[str, Any]:
            calls.routes.append("/public")
            return {"user_id": getattr(request.state, "user_id", None)}

        @app.get("/me")
        async def me(principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
            calls.routes.append("/me")
            state = request.state
            return {
                "sub": principal.subject,
                "method": principal.auth_method,
                "state_principal": getattr(state, "principal", None) is principal,
                "state_claims": getattr(state, "claims", None) is principal.claims,
                "state_user_id": getattr(state, "user_id", None),
            }

        @app.get("/maybe")
        async def maybe(principal: OptionalPrincipal) -> dict[str, Any]:
            return {"sub": principal.subject if principal else None}

        @app.get("/write", dependencies=[Depends(require_permissions("notes:write"))])
        async def write(principal: CurrentPrincipal) -> dict[str, str]:
            return {"sub": principal.subject}

        @app.websocket("/ws")
        async def ws(websocket: WebSocket, principal: CurrentPrincipal) -> None:
            await websocket.accept()
            await websocket.send_json({"sub": principal.subject})
            await websocket.close()

        return app

    return factory


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"urn:spaps:problem:{code}"


async def test_valid_token_sets_state_and_is_verified_once(
    make_auth_app: Callable[..., FastAPI],
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    issuer: TokenIssuer,
    revocations: Revocations,
) -> None:
    token = issuer.issue("alice", roles=["writer"])
    async with make_client(make_auth_app()) as client:
        response = await client.get("/me", headers=_bearer(token))
        assert response.json() == {
            "sub": "alice",
            "method": "bearer",
            "state_principal": True,
            "state_claims": True,
            "state_user_id": "alice",
        }
        # The revocation list is asked once per verification: the middleware verified,
        # CurrentPrincipal (and require_permissions on top of it) did not verify again.
        assert revocations.calls == 1
        assert (await client.get("/write", headers=_bearer(token))).json() == {"sub": "alice"}
        assert revocations.calls == 2
        assert (await client.get("/public", headers=_bearer(token))).json() == {"user_id": "alice"}
        assert revocations.calls == 3


async def test_dependencies_use_the_middleware_result(
    authenticator: Authenticator,
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    issuer: TokenIssuer,
    revocations: Revocations,
) -> None:
    # Revoke the token while the request is between the middleware and the route: a
    # dependency that verified again would now answer 401.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    def revoke_after_middleware(inner: Any) -> Any:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            revocations.revoked.add(scope["state"]["claims"]["jti"])
            await inner(scope, receive, send)

        return asgi

    stack = AuthenticationMiddleware(revoke_after_middleware(app), authenticator=authenticator)
    token = issuer.issue("alice")
    async with make_client(stack) as client:  # type: ignore[arg-type]
        assert (await client.get("/me", headers=_bearer(token))).json() == "alice"
        # The next request is refused by the middleware itself.
        _assert_problem(await client.get("/me", headers=_bearer(token)), 401, "auth.token_revoked")


async def test_missing_credentials(
    make_auth_app: Callable[..., FastAPI],
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    revocations: Revocations,
) -> None:
    async with make_client(make_auth_app()) as client:
        assert (await client.get("/public")).json() == {"user_id": None}
        assert (await client.get("/maybe")).json() == {"sub": None}
        response = await client.get("/me")
        _assert_problem(response, 401, "auth.unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert revocations.calls == 0


@pytest.fixture(params=["garbage", "expired", "revoked", "malformed_header"])
def bad_credentials(
    request: pytest.FixtureRequest,
    issuer: TokenIssuer,
    authenticator: Authenticator,
    revocations: Revocations,
) -> tuple[dict[str, str], str]:
    """Headers with invalid credentials, and the problem code they must be refused with."""
    if request.param == "garbage":
        return _bearer("not.a.jwt"), "auth.invalid_token"
    if request.param == "expired":
        return _bearer(issuer.issue("u", ttl=-60)), "auth.token_expired"
    if request.param == "revoked":
        token = issuer.issue("u")
        revocations.revoked.add(authenticator.verifier.verify(token).token_id)
        return _bearer(token), "auth.token_revoked"
    return {"Authorization": "Basic dXNlcjpwYXNz"}, "auth.invalid_token"


async def test_invalid_credentials_are_refused_before_the_app(
    make_auth_app: Callable[..., FastAPI],
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    calls: Calls,
    bad_credentials: tuple[dict[str, str], str],
) -> None:
    headers, code = bad_credentials
    async with make_client(make_auth_app()) as client:
        for path in ("/public", "/me"):
            response = await client.get(path, headers=headers)
            _assert_problem(response, 401, code)
            assert response.headers["www-authenticate"] == "Bearer"
    assert calls.routes == []


async def test_api_keys(
    authenticator: Authenticator,
    make_auth_app: Callable[..., FastAPI],
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    calls: Calls,
) -> None:
    assert authenticator.api_keys is not None
    created = await authenticator.api_keys.create("svc-1", name="ci")
    async with make_client(make_auth_app()) as client:
        response = await client.get("/me", headers={"X-API-Key": created.key})
        assert response.json() == {
            "sub": "svc-1",
            "method": "api_key",
            "state_principal": True,
            "state_claims": True,
            "state_user_id": "svc-1",
        }
        _assert_problem(
            await client.get("/public", headers={"X-API-Key": created.key + "x"}),
            401,
            "auth.invalid_api_key",
        )
    assert calls.routes == ["/me"]


async def _websocket(app: ASGIApp, headers: dict[str, str]) -> list[Message]:
    """Open ``/ws`` on ``app`` as an ASGI server would; the messages the app sent."""
    scope: Scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_websockets(make_auth_app: Callable[..., FastAPI], issuer: TokenIssuer) -> None:
    app = make_auth_app()
    accepted = await _websocket(app, _bearer(issuer.issue("alice")))
    assert [m["type"] for m in accepted] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert accepted[1]["text"] == '{"sub":"alice"}'
    refused = await _websocket(app, _bearer("not.a.jwt"))
    assert refused == [{"type": "websocket.close", "code": 1008, "reason": "auth.invalid_token"}]


async def test_without_the_middleware_nothing_changes(
    make_auth_app: Callable[..., FastAPI],
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    issuer: TokenIssuer,
    revocations: Revocations,
) -> None:
    token = issuer.issue("alice", roles=["writer"])
    async with make_client(make_auth_app(middleware=False)) as client:
        response = await client.get("/me", headers=_bearer(token))
        assert response.json() == {
            "sub": "alice",
            "method": "bearer",
            "state_principal": False,
            "state_claims": False,
            "state_user_id": None,
        }
        assert revocations.calls == 1  # the dependency verified
        # Routes that do not authenticate ignore credentials, as before.
        assert (await client.get("/public", headers=_bearer("x.y.z"))).json() == {"user_id": None}
        assert (await client.get("/maybe")).json() == {"sub": None}
        _assert_problem(await client.get("/me"), 401, "auth.unauthenticated")
        _assert_problem(
            await client.get("/me", headers=_bearer("x.y.z")), 401, "auth.invalid_token"
        )


async def test_plain_asgi_app_gets_a_state_and_other_scopes_pass_through(
    authenticator: Authenticator,
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    issuer: TokenIssuer,
) -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    middleware = AuthenticationMiddleware(app, authenticator=authenticator)
    async with make_client(middleware) as client:  # type: ignore[arg-type]
        assert (await client.get("/", headers=_bearer(issuer.issue("bob")))).status_code == 204
        assert (await client.get("/")).status_code == 204
    with_token, without = seen[0]["state"], seen[1]["state"]
    assert (with_token["user_id"], with_token["claims"]["sub"]) == ("bob", "bob")
    assert with_token["principal"].subject == "bob"
    assert "principal" not in without
    assert "user_id" not in without

    async def no_receive() -> Any:
        raise AssertionError("the app does not receive")

    async def no_send(message: Any) -> None:
        raise AssertionError("the app does not send")

    lifespan: Scope = {"type": "lifespan"}
    await middleware(lifespan, no_receive, no_send)
    assert seen[2] is lifespan
    assert "state" not in lifespan

    # An existing state (a server's copy of the lifespan state) is written into, not
    # replaced, so middleware further out reads the same mapping.
    state = {"request_id": "r-1"}
    headers = [(b"authorization", f"Bearer {issuer.issue('bob')}".encode())]
    await middleware({"type": "websocket", "headers": headers, "state": state}, no_receive, no_send)
    assert seen[3]["state"] is state
    assert (state["request_id"], state["user_id"]) == ("r-1", "bob")


def test_middleware_requires_an_authenticator() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="Authenticator"):
        AuthenticationMiddleware(app, authenticator=object())  # type: ignore[arg-type]


async def test_setup_auth_is_optional_behind_the_middleware(
    keys: KeySet,
    issuer: TokenIssuer,
    registry: PermissionRegistry,
    make_client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    verifier = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA"])
    app = FastAPI()
    app.add_middleware(
        AuthenticationMiddleware, authenticator=Authenticator(verifier=verifier, registry=registry)
    )

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> list[str]:
        return sorted(principal.permissions)

    token = issuer.issue("carol", roles=["reader"])
    async with make_client(app) as client:
        assert (await client.get("/me", headers=_bearer(token))).json() == ["notes:read"]


async def test_required_refuses_missing_credentials_outside_public_paths(
    authenticator: Authenticator,
    make_client: Callable[[FastAPI], httpx.AsyncClient],
    issuer: TokenIssuer,
) -> None:
    app = FastAPI()
    seen: list[str] = []

    @app.get("/{path:path}")
    async def anything(path: str) -> str:
        seen.append(path)
        return path

    stack = AuthenticationMiddleware(
        app, authenticator=authenticator, required=True, public_paths=["/health", "/open/"]
    )
    async with make_client(stack) as client:  # type: ignore[arg-type]
        response = await client.get("/items")
        _assert_problem(response, 401, "auth.unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
        _assert_problem(await client.get("/healthz"), 401, "auth.unauthenticated")
        assert (await client.get("/health")).json() == "health"
        assert (await client.get("/health/ready")).json() == "health/ready"
        assert (await client.get("/open")).json() == "open"
        good = await client.get("/items", headers=_bearer(issuer.issue("alice")))
        assert good.json() == "items"
    assert seen == ["health", "health/ready", "open", "items"]


def test_public_paths_are_validated(authenticator: Authenticator) -> None:
    with pytest.raises(TypeError, match="iterable"):
        AuthenticationMiddleware(FastAPI(), authenticator=authenticator, public_paths="/health")
    with pytest.raises(ValueError, match="starting with"):
        AuthenticationMiddleware(FastAPI(), authenticator=authenticator, public_paths=["health"])
