"""spaps_tenancy.strawberry over HTTP: TenantMiddleware in front of a GraphQLRouter whose
schema has TenantScope, on real SQLite and PostgreSQL databases.

The resolvers query TenantScoped models without writing any tenant filter; each test
asserts the answer and which resolvers ran.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from spaps_tenancy import TenantMiddleware, get_tenant, header_resolver, tenant_context
from spaps_tenancy.strawberry import TenantRequired, TenantScope
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import GraphQLRouter
from strawberry.permission import PermissionExtension

MISSING = {"code": "tenancy.tenant_missing", "status": 400, "title": "Tenant missing"}


@strawberry.type
class PatientType:
    id: int
    name: str


@strawberry.type
class Query:
    """The root value: the database's session factory, and the resolvers that ran."""

    orm: strawberry.Private[SimpleNamespace]
    sessions: strawberry.Private[async_sessionmaker[Any]]
    calls: strawberry.Private[list[str]]

    @strawberry.field
    async def patients(self) -> list[PatientType]:
        self.calls.append("patients")
        async with self.sessions() as session:
            rows = await session.scalars(select(self.orm.Patient).order_by(self.orm.Patient.id))
            return [PatientType(id=p.id, name=p.name) for p in rows]

    @strawberry.field
    async def patient(self, id: int) -> PatientType | None:
        self.calls.append("patient")
        async with self.sessions() as session:
            found = await session.get(self.orm.Patient, id)
            return None if found is None else PatientType(id=found.id, name=found.name)

    @strawberry.field
    async def note_count(self) -> int:
        self.calls.append("note_count")
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(self.orm.Note)) or 0)

    @strawberry.field(permission_classes=[TenantRequired])
    def tenant(self) -> str | None:
        self.calls.append("tenant")
        return get_tenant()

    @strawberry.field(
        extensions=[PermissionExtension(permissions=[TenantRequired()], fail_silently=True)]
    )
    def quiet_tenant(self) -> str | None:
        self.calls.append("quiet_tenant")
        return get_tenant()

    @strawberry.field
    def version(self) -> str:
        self.calls.append("version")
        return "1"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, orm: SimpleNamespace, tmp_path: Path
) -> AsyncIterator[SimpleNamespace]:
    """A database with the test schema and two tenants' rows: ``ids[tenant]`` are their
    patient ids."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'tenancy.db'}"
    else:
        pg: Callable[[str, str], str] = request.getfixturevalue("pg_url")
        url = pg(request.getfixturevalue("postgres_url"), "asyncpg")
    engine: AsyncEngine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(orm.Base.metadata.create_all)
    sessions = async_sessionmaker(engine, sync_session_class=orm.Session, expire_on_commit=False)
    ids: dict[str, list[int]] = {}
    for tenant in ("acme", "zeta"):
        with tenant_context(tenant):
            async with sessions() as session:
                patients = [orm.Patient(name=f"{tenant}-{i}") for i in range(2)]
                for patient in patients:
                    patient.notes.append(orm.Note(body=f"note of {patient.name}"))
                session.add_all(patients)
                await session.commit()
                ids[tenant] = [p.id for p in patients]
    try:
        yield SimpleNamespace(sessions=sessions, ids=ids)
    finally:
        await engine.dispose()


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def make_app(
    database: SimpleNamespace, orm: SimpleNamespace, calls: list[str]
) -> Callable[..., FastAPI]:
    """A FastAPI app serving the schema at /graphql; ``tenant_middleware`` puts
    TenantMiddleware (tenant from ``X-Tenant-ID``) in front, ``extensions`` go to the
    schema, ``wrap`` wraps the app in one more ASGI layer."""

    def factory(
        *,
        extensions: list[Any] | None = None,
        tenant_middleware: bool = True,
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> Any:
        schema = strawberry.Schema(
            query=Query, extensions=[TenantScope] if extensions is None else extensions
        )
        app = FastAPI()
        root = Query(orm=orm, sessions=database.sessions, calls=calls)
        app.include_router(GraphQLRouter(schema, root_value_getter=lambda: root), prefix="/graphql")
        if tenant_middleware:
            app.add_middleware(TenantMiddleware, resolver=header_resolver("x-tenant-id"))
        return app if wrap is None else wrap(app)

    return factory


async def ask(app: Any, query: str, tenant: str | None = None) -> httpx.Response:
    headers = {} if tenant is None else {"X-Tenant-ID": tenant}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_resolvers_see_only_the_requests_tenant(
    make_app: Callable[..., FastAPI], database: SimpleNamespace
) -> None:
    app = make_app()
    for tenant, other in (("acme", "zeta"), ("zeta", "acme")):
        answer = (await ask(app, "{ patients { id name } noteCount tenant }", tenant)).json()
        assert answer == {
            "data": {
                "patients": [
                    {"id": pid, "name": f"{tenant}-{i}"}
                    for i, pid in enumerate(database.ids[tenant])
                ],
                "noteCount": 2,
                "tenant": tenant,
            }
        }
        for pid in database.ids[other]:
            # Another tenant's row by its id: not found, as if it did not exist.
            answer = (await ask(app, f"{{ patient(id: {pid}) {{ name }} }}", tenant)).json()
            assert answer == {"data": {"patient": None}}


async def test_concurrent_requests_of_two_tenants_never_mix(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app()

    async def names(tenant: str) -> set[str]:
        answer = (await ask(app, "{ patients { name } }", tenant)).json()
        return {p["name"].split("-")[0] for p in answer["data"]["patients"]}

    results = await asyncio.gather(*(names(t) for t in ["acme", "zeta"] * 10))
    assert results == [{"acme"}, {"zeta"}] * 10


async def test_no_tenant_fails_closed_before_any_resolver(
    make_app: Callable[..., FastAPI], calls: list[str]
) -> None:
    # No TenantMiddleware (or a path it exempts): TenantScope refuses the operation.
    response = await ask(make_app(tenant_middleware=False), "{ version patients { name } }")
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"] == MISSING
    assert error["message"] == "the request does not name a tenant"
    assert calls == []
    # Behind TenantMiddleware the request does not even reach the schema.
    response = await ask(make_app(), "{ version }")
    assert response.status_code == 400
    assert response.json()["code"] == "tenancy.tenant_missing"
    assert calls == []


async def test_a_query_without_tenantscope_is_refused_by_the_orm_filter(
    make_app: Callable[..., FastAPI], calls: list[str]
) -> None:
    # The ORM filter is the floor: without TenantScope and without a tenant, the resolver
    # runs but the query is refused (never "every tenant's rows").
    answer = (await ask(make_app(extensions=[], tenant_middleware=False), "{ noteCount }")).json()
    assert answer["data"] is None
    assert "queried with no tenant set" in answer["errors"][0]["message"]
    assert calls == ["note_count"]


async def test_tenant_required_on_a_field(
    make_app: Callable[..., FastAPI], calls: list[str]
) -> None:
    app = make_app(extensions=[], tenant_middleware=False)
    answer = (await ask(app, "{ version tenant }")).json()
    assert answer["data"] == {"version": "1", "tenant": None}
    assert [(e["path"], e["extensions"]) for e in answer["errors"]] == [(["tenant"], MISSING)]
    assert (await ask(app, "{ version quietTenant }")).json() == {
        "data": {"version": "1", "quietTenant": None}
    }
    assert calls == ["version", "version"]
    assert (await ask(make_app(extensions=[]), "{ tenant }", "acme")).json() == {
        "data": {"tenant": "acme"}
    }


def state_only(tenant: str) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI layer that names the tenant in ``request.state`` only, as an app that
    resolves it outside TenantMiddleware does (no context variable set)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("state", {})["tenant_id"] = tenant
            await app(scope, receive, send)

        return asgi

    return wrap


async def test_request_state_tenant_is_entered_for_the_operation(
    make_app: Callable[..., FastAPI], database: SimpleNamespace
) -> None:
    app = make_app(tenant_middleware=False, wrap=state_only("zeta"))
    answer = (await ask(app, "{ patients { id } tenant }")).json()
    assert answer == {
        "data": {"patients": [{"id": i} for i in database.ids["zeta"]], "tenant": "zeta"}
    }
    assert get_tenant() is None  # left when the operation ended


class Suspend(SchemaExtension):
    """Suspends during validation, so concurrent operations interleave between
    Strawberry's ``execution_context`` assignment and execution."""

    async def on_validate(self) -> AsyncIterator[None]:
        await asyncio.sleep(0.01)  # sleep-ok: forces the interleaving under test, not a wait
        yield


async def test_a_shared_instance_keeps_each_operation_apart(
    make_app: Callable[..., FastAPI],
) -> None:
    scope = TenantScope()
    with pytest.warns(DeprecationWarning, match="extension instance"):
        apps = {
            t: make_app(extensions=[Suspend, scope], tenant_middleware=False, wrap=state_only(t))
            for t in ("acme", "zeta")
        }

    async def tenant_of(t: str) -> str:
        answer = (await ask(apps[t], "{ tenant patients { name } }")).json()
        assert {p["name"].split("-")[0] for p in answer["data"]["patients"]} == {t}
        return str(answer["data"]["tenant"])

    assert (
        await asyncio.gather(*(tenant_of(t) for t in ["acme", "zeta"] * 5))
        == [
            "acme",
            "zeta",
        ]
        * 5
    )


def test_tenant_scope_outside_an_operation_says_so() -> None:
    with pytest.raises(RuntimeError, match="inside a Strawberry operation"):
        _ = TenantScope().execution_context


@pytest.fixture
def sync_schema() -> strawberry.Schema:
    @strawberry.type
    class Root:
        @strawberry.field
        def tenant(self) -> str | None:
            return get_tenant()

    return strawberry.Schema(query=Root, extensions=[TenantScope])


def test_sync_execution_and_object_contexts(sync_schema: strawberry.Schema) -> None:
    with tenant_context("acme"):
        assert sync_schema.execute_sync("{ tenant }").data == {"tenant": "acme"}
    request = SimpleNamespace(scope={"type": "http", "state": {"tenant_id": "zeta"}})
    result = sync_schema.execute_sync("{ tenant }", context_value=SimpleNamespace(request=request))
    assert result.data == {"tenant": "zeta"}
    for empty in ({"request": None}, None, SimpleNamespace(request=SimpleNamespace(scope={}))):
        result = sync_schema.execute_sync("{ tenant }", context_value=empty)
        assert result.errors is not None
        assert result.errors[0].extensions == MISSING


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
    # Only spaps_tenancy.strawberry and its private modules import Strawberry.
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_STRAWBERRY, "spaps_tenancy"],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
