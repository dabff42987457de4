"""spaps_auth.strawberry over HTTP: AuthenticationMiddleware in front of a GraphQLRouter.

Real tokens from TokenIssuer, real API keys from ApiKeyManager, real GraphQL requests;
each test asserts the answer and which resolvers ran.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from spaps_auth import (
    ApiKeyManager,
    Authenticator,
    PermissionDeniedError,
    PermissionRegistry,
    Principal,
    TokenIssuer,
    TokenVerifier,
    any_of,
    has_permission,
    is_owner,
)
from spaps_auth.fastapi import AuthenticationMiddleware
from spaps_auth.strawberry import (
    Allows,
    HasPermissions,
    HasRoles,
    HasScopes,
    IsAuthenticated,
    authorize_resource,
    get_principal,
    require_principal,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry.extensions import FieldExtension
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.permission import BasePermission, PermissionExtension

OWNER_OR_ADMIN = any_of(is_owner(), has_permission("admin:all"))


def _guarded(*permissions: BasePermission, fail_silently: bool = False) -> list[FieldExtension]:
    return [PermissionExtension(permissions=list(permissions), fail_silently=fail_silently)]


@strawberry.type
class Note:
    id: int
    owner_id: strawberry.Private[str]

    @strawberry.field(extensions=_guarded(Allows(OWNER_OR_ADMIN)))
    def body(self) -> str | None:
        return f"body of note {self.id}"


NOTES = {1: Note(id=1, owner_id="alice"), 2: Note(id=2, owner_id="bob")}


@strawberry.type
class Query:
    """The root value: ``calls`` lists the resolvers that ran."""

    calls: strawberry.Private[list[str]]

    @strawberry.field
    def whoami(self, info: strawberry.Info) -> str | None:
        self.calls.append("whoami")
        principal = get_principal(info)
        return None if principal is None else f"{principal.auth_method}:{principal.subject}"

    @strawberry.field(permission_classes=[IsAuthenticated])
    def me(self, info: strawberry.Info) -> str:
        self.calls.append("me")
        return require_principal(info).subject

    @strawberry.field(extensions=_guarded(HasRoles("admin")))
    def admin(self) -> str | None:
        self.calls.append("admin")
        return "admin"

    @strawberry.field(extensions=_guarded(HasRoles("reader", "writer")))
    def both_roles(self) -> str | None:
        self.calls.append("both_roles")
        return "both"

    @strawberry.field(extensions=_guarded(HasRoles("auditor", "admin", any_of=True)))
    def any_role(self) -> str | None:
        self.calls.append("any_role")
        return "any"

    @strawberry.field(extensions=_guarded(IsAuthenticated(), HasPermissions("notes:write")))
    async def write(self) -> str | None:
        self.calls.append("write")
        return "written"

    @strawberry.field(extensions=_guarded(HasScopes("notes.read")))
    async def scoped(self) -> str | None:
        self.calls.append("scoped")
        return "scoped"

    @strawberry.field(extensions=_guarded(IsAuthenticated(), fail_silently=True))
    def hidden(self) -> str | None:
        self.calls.append("hidden")
        return "hidden"

    @strawberry.field
    def notes(self) -> list[Note]:
        self.calls.append("notes")
        return list(NOTES.values())

    @strawberry.field
    def note(self, info: strawberry.Info, id: int) -> Note:
        self.calls.append("note")
        note = NOTES[id]
        authorize_resource(info, note, OWNER_OR_ADMIN)
        return note


SCHEMA = strawberry.Schema(query=Query)


@pytest.fixture
def authenticator(
    verifier: TokenVerifier, registry: PermissionRegistry, engine: AsyncEngine
) -> Authenticator:
    return Authenticator(verifier=verifier, registry=registry, api_keys=ApiKeyManager(engine))


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def graphql_app(authenticator: Authenticator, calls: list[str]) -> FastAPI:
    """AuthenticationMiddleware in front of the schema's GraphQLRouter at /graphql."""
    app = FastAPI()
    app.include_router(
        GraphQLRouter(SCHEMA, root_value_getter=lambda: Query(calls=calls)), prefix="/graphql"
    )
    app.add_middleware(AuthenticationMiddleware, authenticator=authenticator)
    return app


Ask = Callable[..., Any]


@pytest.fixture
async def ask(
    graphql_app: FastAPI, make_client: Callable[[FastAPI], httpx.AsyncClient]
) -> AsyncIterator[Ask]:
    """POST a query with optional credentials; returns the decoded GraphQL answer."""
    async with make_client(graphql_app) as client:

        async def post(query: str, *, token: str | None = None, key: str | None = None) -> Any:
            headers = {}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            if key is not None:
                headers["X-API-Key"] = key
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        yield post


def codes(answer: dict[str, Any]) -> dict[str, str]:
    """``path -> extensions.code`` of every error of a GraphQL answer."""
    return {
        ".".join(map(str, error["path"])): error["extensions"]["code"]
        for error in answer.get("errors", [])
    }


async def test_anonymous_and_authenticated(ask: Ask, issuer: TokenIssuer, calls: list[str]) -> None:
    assert await ask("{ whoami }") == {"data": {"whoami": None}}
    answer = await ask("{ me }")
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["message"] == "authentication required"
    assert error["extensions"] == {
        "code": "auth.unauthenticated",
        "status": 401,
        "title": "Authentication required",
    }
    assert calls == ["whoami"]  # the refused resolver never ran
    token = issuer.issue("alice")
    assert await ask("{ whoami me }", token=token) == {
        "data": {"whoami": "bearer:alice", "me": "alice"}
    }


async def test_roles_granted_and_denied(ask: Ask, issuer: TokenIssuer, calls: list[str]) -> None:
    admin = issuer.issue("root", roles=["admin"])
    assert (await ask("{ admin anyRole }", token=admin))["data"] == {
        "admin": "admin",
        "anyRole": "any",
    }
    writer = issuer.issue("wendy", roles=["writer", "reader"])
    answer = await ask("{ admin anyRole bothRoles }", token=writer)
    assert codes(answer) == {"admin": "auth.forbidden", "anyRole": "auth.forbidden"}
    assert answer["errors"][0]["extensions"]["status"] == 403
    assert "missing roles ['admin']" in {e["message"] for e in answer["errors"]}
    # Roles are taken as held, not as inherited: "admin" inherits "writer" in the
    # registry but does not hold the role itself.
    answer = await ask("{ bothRoles }", token=admin)
    assert codes(answer) == {"bothRoles": "auth.forbidden"}
    assert calls == ["admin", "any_role", "both_roles"]
    assert codes(await ask("{ admin }")) == {"admin": "auth.unauthenticated"}


async def test_permissions_expand_roles_through_the_registry(ask: Ask, issuer: TokenIssuer) -> None:
    writer = issuer.issue("wendy", roles=["writer"])
    assert await ask("{ write }", token=writer) == {"data": {"write": "written"}}
    direct = issuer.issue("dana", permissions=["notes:write"])
    assert await ask("{ write }", token=direct) == {"data": {"write": "written"}}
    reader = issuer.issue("rita", roles=["reader"])
    answer = await ask("{ write }", token=reader)
    assert codes(answer) == {"write": "auth.forbidden"}
    assert answer["errors"][0]["message"] == "missing permissions ['notes:write']"
    assert codes(await ask("{ write }")) == {"write": "auth.unauthenticated"}


@pytest.mark.parametrize(
    ("claims", "allowed"),
    [
        ({"scope": "profile notes.read"}, True),
        ({"scp": ["notes.read"]}, True),
        ({"scp": "notes.read openid"}, True),
        ({"scope": "notes.readonly notes.write"}, False),
        ({"scp": [1, "notes"]}, False),
        ({}, False),
    ],
)
async def test_scopes_from_the_scope_and_scp_claims(
    ask: Ask, issuer: TokenIssuer, claims: dict[str, Any], allowed: bool
) -> None:
    # A permission of the same name is no scope: scopes come from the token's claims.
    token = issuer.issue("alice", permissions=["notes.read"], extra=claims)
    answer = await ask("{ scoped }", token=token)
    if allowed:
        assert answer == {"data": {"scoped": "scoped"}}
    else:
        assert codes(answer) == {"scoped": "auth.forbidden"}


async def test_allows_checks_the_parent_object(ask: Ask, issuer: TokenIssuer) -> None:
    query = "{ notes { id body } }"
    answer = await ask(query, token=issuer.issue("alice"))
    assert answer["data"] == {
        "notes": [{"id": 1, "body": "body of note 1"}, {"id": 2, "body": None}]
    }
    assert codes(answer) == {"notes.1.body": "auth.forbidden"}
    admin = issuer.issue("root", roles=["admin"])
    assert await ask(query, token=admin) == {
        "data": {
            "notes": [{"id": 1, "body": "body of note 1"}, {"id": 2, "body": "body of note 2"}]
        }
    }
    anonymous = await ask(query)
    assert codes(anonymous) == {
        "notes.0.body": "auth.unauthenticated",
        "notes.1.body": "auth.unauthenticated",
    }


async def test_authorize_resource_inside_a_resolver(ask: Ask, issuer: TokenIssuer) -> None:
    assert await ask("{ note(id: 2) { id } }", token=issuer.issue("bob")) == {
        "data": {"note": {"id": 2}}
    }
    answer = await ask("{ note(id: 2) { id } }", token=issuer.issue("alice"))
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"] == {
        "code": "auth.forbidden",
        "status": 403,
        "title": "Forbidden",
    }
    assert codes(await ask("{ note(id: 1) { id } }")) == {"note": "auth.unauthenticated"}


async def test_api_key_principals(ask: Ask, authenticator: Authenticator, calls: list[str]) -> None:
    assert authenticator.api_keys is not None
    scoped = await authenticator.api_keys.create(
        "svc-1", name="ci", scopes=["notes:write", "notes.read"]
    )
    answer = await ask("{ whoami me write scoped }", key=scoped.key)
    assert answer == {
        "data": {"whoami": "api_key:svc-1", "me": "svc-1", "write": "written", "scoped": "scoped"}
    }
    bare = await authenticator.api_keys.create("svc-2", name="bare")
    answer = await ask("{ me write scoped admin }", key=bare.key)
    assert answer["data"] == {"me": "svc-2", "write": None, "scoped": None, "admin": None}
    assert codes(answer) == {
        "write": "auth.forbidden",
        "scoped": "auth.forbidden",
        "admin": "auth.forbidden",
    }
    assert calls.count("me") == 2


async def test_fail_silently_answers_null_without_an_error(
    ask: Ask, issuer: TokenIssuer, calls: list[str]
) -> None:
    assert await ask("{ hidden }") == {"data": {"hidden": None}}
    assert calls == []
    assert await ask("{ hidden }", token=issuer.issue("alice")) == {"data": {"hidden": "hidden"}}


async def test_each_refused_field_keeps_its_own_reason(ask: Ask, issuer: TokenIssuer) -> None:
    # Several refusals in one operation, sync and async resolvers interleaved: each error
    # names its own check.
    token = issuer.issue("rita", roles=["reader"], extra={"scope": "profile"})
    answer = await ask("{ admin write scoped me anyRole }", token=token)
    messages = {e["path"][0]: e["message"] for e in answer["errors"]}
    assert messages == {
        "admin": "missing roles ['admin']",
        "write": "missing permissions ['notes:write']",
        "scoped": "missing scopes ['notes.read']",
        "anyRole": "requires one of the roles ['admin', 'auditor']",
    }


async def test_invalid_credentials_never_reach_the_schema(
    graphql_app: FastAPI, make_client: Callable[[FastAPI], httpx.AsyncClient], calls: list[str]
) -> None:
    async with make_client(graphql_app) as client:
        response = await client.post(
            "/graphql", json={"query": "{ whoami }"}, headers={"Authorization": "Bearer x.y.z"}
        )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.invalid_token"
    assert calls == []


async def test_an_object_context_with_a_request_attribute(
    authenticator: Authenticator,
    issuer: TokenIssuer,
    make_client: Callable[[FastAPI], httpx.AsyncClient],
) -> None:
    app = FastAPI()
    router: GraphQLRouter[BaseContext, Query] = GraphQLRouter(
        SCHEMA, context_getter=BaseContext, root_value_getter=lambda: Query(calls=[])
    )
    app.include_router(router, prefix="/graphql")
    app.add_middleware(AuthenticationMiddleware, authenticator=authenticator)
    headers = {"Authorization": f"Bearer {issuer.issue('alice')}"}
    async with make_client(app) as client:
        response = await client.post("/graphql", json={"query": "{ me }"}, headers=headers)
    assert response.json() == {"data": {"me": "alice"}}


async def test_without_the_middleware_the_schema_fails_loudly(
    make_client: Callable[[FastAPI], httpx.AsyncClient], issuer: TokenIssuer
) -> None:
    app = FastAPI()
    app.include_router(
        GraphQLRouter(SCHEMA, root_value_getter=lambda: Query(calls=[])), prefix="/graphql"
    )
    headers = {"Authorization": f"Bearer {issuer.issue('alice')}"}
    async with make_client(app) as client:
        answer = (await client.post("/graphql", json={"query": "{ me }"}, headers=headers)).json()
    # Not "anonymous": a missing middleware is a wiring error, never a silent 401.
    assert "AuthenticationMiddleware did not run" in answer["errors"][0]["message"]


def test_schema_execution_without_a_request_fails_loudly() -> None:
    result = SCHEMA.execute_sync("{ whoami }", root_value=Query(calls=[]), context_value={})
    assert result.errors is not None
    assert "holds no request" in result.errors[0].message


def test_permission_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        HasRoles()
    with pytest.raises(ValueError, match="at least one permission"):
        HasPermissions()
    with pytest.raises(ValueError, match="at least one scope"):
        HasScopes()
    with pytest.raises(TypeError, match="non-empty strings"):
        HasScopes("")
    with pytest.raises(TypeError, match="callable"):
        Allows("owner")  # type: ignore[arg-type]


def test_errors_are_the_library_errors() -> None:
    # What the helpers raise is spaps-auth's own error, so an error handler (spaps-ops'
    # ProblemErrors, a resolver's own except) sees the usual class, code and status.
    seen: list[PermissionDeniedError] = []

    @strawberry.type
    class Probe:
        @strawberry.field
        def check(self, info: strawberry.Info) -> bool:
            try:
                authorize_resource(info, {"owner_id": "bob"}, is_owner())
            except PermissionDeniedError as error:
                seen.append(error)
                raise
            return True

    request = Request({"type": "http", "headers": [], "state": {}})
    request.scope["state"]["spaps_auth.principal"] = Principal(subject="alice")
    result = strawberry.Schema(query=Probe).execute_sync(
        "{ check }", context_value={"request": request}
    )
    [error] = seen
    assert (error.status, error.code, error.title) == (403, "auth.forbidden", "Forbidden")
    assert result.errors is not None
    assert result.errors[0].original_error is error
    assert result.errors[0].extensions == {
        "code": "auth.forbidden",
        "status": 403,
        "title": "Forbidden",
    }


IMPORT_WITHOUT_STRAWBERRY = """
import importlib, pkgutil, sys
sys.modules["strawberry"] = None  # as if the extra were not installed
package = importlib.import_module(sys.argv[1])
names = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    if "strawberry" not in name:
        importlib.import_module(name)
try:
    importlib.import_module(package.__name__ + ".strawberry")
except ImportError:
    print("ok")
"""


def test_the_library_imports_without_strawberry() -> None:
    # Only spaps_auth.strawberry and its private modules import Strawberry.
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_STRAWBERRY, "spaps_auth"],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
