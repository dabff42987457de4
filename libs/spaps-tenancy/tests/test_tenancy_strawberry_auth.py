"""The GraphQL stack of a service: spaps-auth's AuthenticationMiddleware, TenantMiddleware
taking the tenant from the token's claim, and a schema with TenantScope and both
libraries' permission classes.

spaps-tenancy does not depend on spaps-auth: this module runs where both are installed
(the workspace) and is skipped, with that reason, where only this library's wheel is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from spaps_tenancy import TenantMiddleware, claim_resolver, tenant_context
from spaps_tenancy.strawberry import TenantRequired, TenantScope
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from strawberry.fastapi import GraphQLRouter

spaps_auth = pytest.importorskip(
    "spaps_auth",
    reason="not applicable: spaps-auth is not installed (spaps-tenancy does not depend on it)",
)
auth_strawberry = pytest.importorskip(
    "spaps_auth.strawberry", reason="not applicable: spaps-auth's strawberry extra is absent"
)
auth_fastapi = pytest.importorskip(
    "spaps_auth.fastapi", reason="not applicable: spaps-auth is not installed"
)


@strawberry.type
class Query:
    orm: strawberry.Private[SimpleNamespace]
    sessions: strawberry.Private[async_sessionmaker[Any]]
    calls: strawberry.Private[list[str]]

    @strawberry.field(permission_classes=[auth_strawberry.IsAuthenticated, TenantRequired])
    async def patients(self, info: strawberry.Info) -> list[str]:
        self.calls.append(auth_strawberry.require_principal(info).subject)
        async with self.sessions() as session:
            return list(await session.scalars(select(self.orm.Patient.name)))


@pytest.fixture
async def app(orm: SimpleNamespace, tmp_path: Path) -> AsyncIterator[SimpleNamespace]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stack.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(orm.Base.metadata.create_all)
    sessions = async_sessionmaker(engine, sync_session_class=orm.Session, expire_on_commit=False)
    for tenant in ("acme", "zeta"):
        with tenant_context(tenant):
            async with sessions() as session:
                session.add(orm.Patient(name=f"{tenant}-patient"))
                await session.commit()
    keys = spaps_auth.KeySet([spaps_auth.JsonWebKey.generate("EdDSA", kid="k1")])
    issuer = spaps_auth.TokenIssuer(keys=keys, issuer="https://id.test", audience="api.test")
    verifier = spaps_auth.TokenVerifier(
        keys=keys, issuer="https://id.test", audience="api.test", algorithms=["EdDSA"]
    )
    calls: list[str] = []
    root = Query(orm=orm, sessions=sessions, calls=calls)
    api = FastAPI()
    schema = strawberry.Schema(query=Query, extensions=[TenantScope])
    api.include_router(GraphQLRouter(schema, root_value_getter=lambda: root), prefix="/graphql")
    # Outermost first at request time: authentication, then the tenant from its claims.
    api.add_middleware(TenantMiddleware, resolver=claim_resolver("tenant_id"))
    api.add_middleware(
        auth_fastapi.AuthenticationMiddleware,
        authenticator=spaps_auth.Authenticator(verifier=verifier),
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield SimpleNamespace(client=client, issuer=issuer, calls=calls)
    await engine.dispose()


async def test_the_token_names_the_tenant_and_the_rows_follow(app: SimpleNamespace) -> None:
    for subject, tenant in (("alice", "acme"), ("zed", "zeta")):
        token = app.issuer.issue(subject, extra={"tenant_id": tenant})
        response = await app.client.post(
            "/graphql",
            json={"query": "{ patients }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json() == {"data": {"patients": [f"{tenant}-patient"]}}
    assert app.calls == ["alice", "zed"]


async def test_a_token_without_a_tenant_claim_never_reaches_a_resolver(
    app: SimpleNamespace,
) -> None:
    token = app.issuer.issue("alice")
    response = await app.client.post(
        "/graphql", json={"query": "{ patients }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "tenancy.tenant_missing"
    anonymous = await app.client.post("/graphql", json={"query": "{ patients }"})
    assert anonymous.status_code == 400
    assert app.calls == []
