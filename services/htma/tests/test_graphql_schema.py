"""The schema itself: its public surface, its SDL, and what production turns off."""

from __future__ import annotations

from typing import Any

import htma.graphql
import pytest
from htma import Settings
from htma.clinics.roles import Role
from htma.db import create_sessionmaker
from htma.deps import Caller
from htma.graphql import build_schema, graphql_api, sdl
from htma.graphql._loaders import Loaders
from spaps_auth import Principal
from spaps_ops.db import DatabaseUnavailableError, open_engine
from spaps_ratelimit import MemoryStore, RateLimiter
from spaps_tenancy import tenant_context

INTROSPECTION = "{ __schema { queryType { name } } }"


def test_public_names() -> None:
    assert htma.graphql.__all__ == ["GraphQLContext", "build_schema", "graphql_api",
                                    "graphql_context", "sdl"]  # fmt: skip


def test_sdl_needs_no_settings_and_is_the_served_schema() -> None:
    text = sdl()
    assert "clinics: [Clinic!]!" in text
    assert "panels(first: Int! = 20, after: String = null): PanelConnection!" in text
    assert "result: Result" in text
    assert build_schema(production=True).as_str() == text


async def test_production_refuses_introspection_before_anything_runs() -> None:
    result = await build_schema(production=True).execute(INTROSPECTION)
    assert result.data is None
    assert result.errors
    for error in result.errors:
        assert (error.extensions or {}).get("code") == "graphql.introspection_disabled"
    # development allows it (inside a tenant: TenantScope runs no operation outside one)
    with tenant_context("alpha"):
        allowed = await build_schema(production=False).execute(INTROSPECTION)
    assert allowed.errors is None
    assert allowed.data == {"__schema": {"queryType": {"name": "Query"}}}


def test_production_has_no_ide() -> None:
    for environment, ide in (("development", "graphiql"), ("production", None)):
        router = graphql_api(Settings(environment=environment), limiter=RateLimiter(MemoryStore()))
        assert router.graphql_ide == ide


async def test_the_ide_page_but_no_operation_over_get(client: Any) -> None:
    a = await client.clinic("alpha")
    page = await client.http.get("/graphql", headers={**a.practitioner, "Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    query = await client.http.get(
        "/graphql", headers=a.practitioner, params={"query": "{ clinics { id } }"}
    )
    assert query.status_code == 405
    assert query.json()["errors"][0]["extensions"]["code"] == "ops.method_not_allowed"
    assert "/graphql" not in str(client.app.openapi()["paths"])


async def test_a_database_outage_is_503_as_in_rest_not_a_masked_error() -> None:
    """The loaders turn an unreachable database into spaps-ops' 503 problem, which
    ProblemErrors keeps (REST's routes answer the same code)."""
    principal = Principal("u1", roles=frozenset({"practitioner"}))
    caller = Caller("u1", "alpha", Role.PRACTITIONER, principal)
    async with (
        open_engine("postgresql+asyncpg://htma@127.0.0.1:9/closed") as engine,
        create_sessionmaker(engine)() as session,
    ):
        with tenant_context("alpha"), pytest.raises(DatabaseUnavailableError) as caught:
            await Loaders(session, caller).panels.load("p1")
    assert caught.value.code == "ops.database_unavailable"
