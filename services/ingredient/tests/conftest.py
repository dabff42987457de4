"""Fixtures of the ingredient service's tests: seeded databases, callers and app clients
(the empty databases on both back ends come from ``services/conftest.py``)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from ingredient import Settings, create_app
from ingredient.catalog import audit
from ingredient.catalog.seed import import_catalog, read_catalog, seed_path
from ingredient.db import create_sessionmaker
from ingredient.migrate import MIGRATIONS
from spaps_auth import ApiKeyManager, JsonWebKey, KeySet, TokenIssuer
from spaps_auth.fastapi import jwks_router
from spaps_ops.db import open_engine
from spaps_ratelimit import Store

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def seed_rows() -> list[dict[str, object]]:
    """The shipped seed catalog, parsed once."""
    return read_catalog(seed_path())


async def _seeded(url: str, rows: list[dict[str, object]]) -> str:
    """``url``, migrated and holding the catalog ``rows``."""
    await MIGRATIONS.upgrade(url)
    async with open_engine(url) as engine:
        await import_catalog(create_sessionmaker(engine), rows)
    return url


@pytest.fixture
async def seeded_url(database_url: str, seed_rows: list[dict[str, object]]) -> str:
    """A migrated database holding the whole seed catalog (each back end)."""
    return await _seeded(database_url, seed_rows)


@pytest.fixture
async def seeded_pg_url(pg_url: str, seed_rows: list[dict[str, object]]) -> str:
    """A migrated PostgreSQL database holding the whole seed catalog."""
    return await _seeded(pg_url, seed_rows)


@dataclass
class Issuer:
    """A token issuer standing in for htma: signs tokens, serves its JWKS over ASGI."""

    keys: KeySet
    app: FastAPI
    up: bool = True

    def token(self, *roles: str, subject: str = "user-1", **overrides: Any) -> str:
        issuer = TokenIssuer(
            keys=self.keys,
            issuer=overrides.pop("iss", "htma"),
            audience=overrides.pop("aud", "spaps"),
        )
        return issuer.issue(subject, roles=roles)

    def client(self) -> httpx.AsyncClient:
        """The JWKS client ingredient uses; answers 503 while ``up`` is False."""
        issuer = self

        async def handler(request: httpx.Request) -> httpx.Response:
            if not issuer.up:
                raise httpx.ConnectError("htma is down", request=request)
            transport = httpx.ASGITransport(app=issuer.app)
            return await transport.handle_async_request(request)

        return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://htma")


@pytest.fixture
def issuer() -> Issuer:
    """htma's role in these tests: spaps-auth keys and its real JWKS router."""
    keys = KeySet([JsonWebKey.generate("EdDSA", kid="test-key")])
    app = FastAPI()
    app.include_router(jwks_router(keys))
    return Issuer(keys, app)


@pytest.fixture
def make_app(issuer: Issuer) -> Callable[..., FastAPI]:
    """Factory: an ingredient app (lifespan not run) for the given settings, verifying
    tokens with ``issuer``'s JWKS; ``ratelimit_store`` as given (e.g. on a ``ManualClock``)."""

    def factory(
        *, ratelimit_store: Store | None = None, ratelimit_clock: Any = None, **settings: Any
    ) -> FastAPI:
        settings.setdefault("htma_jwks_url", "http://htma/.well-known/jwks.json")
        return create_app(
            Settings(**settings),
            jwks_client=issuer.client(),
            ratelimit_store=ratelimit_store,
            ratelimit_clock=ratelimit_clock,
            log_stream=io.StringIO(),
        )

    return factory


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> ClientFactory:
    """Factory: an HTTP client on a fresh app (lifespan run) for the given settings."""

    @asynccontextmanager
    async def factory(
        *, headers: dict[str, str] | None = None, **settings: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = make_app(**settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://ingredient", headers=headers
            ) as c:
                yield c

    return factory


async def create_key(database_url: str, plan: str = "pro") -> str:
    async with open_engine(database_url) as engine:
        created = await ApiKeyManager(engine, prefix="ik").create(
            "tests", name="tests", scopes=[f"plan:{plan}"]
        )
    return created.key


@pytest.fixture
async def api_key(seeded_url: str) -> str:
    """A pro-plan API key on the seeded database."""
    return await create_key(seeded_url)


@pytest.fixture
def make_key(seeded_url: str) -> Callable[[str], Awaitable[str]]:
    """Factory: a new API key of a plan on the seeded database."""

    async def factory(plan: str) -> str:
        return await create_key(seeded_url, plan)

    return factory


@pytest.fixture
async def client(
    seeded_url: str, make_client: ClientFactory, api_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a pro API key on an app over the seeded database (each back end)."""
    async with make_client(database_url=seeded_url, headers={"X-API-Key": api_key}) as c:
        yield c


EDITOR_SUBJECT = "catalog-editor-1"


@pytest.fixture
async def editor_headers(seeded_url: str, issuer: Issuer) -> dict[str, str]:
    """An htma token of a user an operator granted the catalog permission (no role)."""
    async with open_engine(seeded_url) as engine, create_sessionmaker(engine)() as session:
        await audit.grant(session, EDITOR_SUBJECT, actor="operator:tests")
    return {"Authorization": f"Bearer {issuer.token(subject=EDITOR_SUBJECT)}"}


@pytest.fixture
def identities(api_key: str, issuer: Issuer) -> list[dict[str, str]]:
    """Each kind of caller: a pro-plan API key, an editor's (lab admin's) token, a
    patient's token, and anonymous."""
    return [
        {"X-API-Key": api_key},
        {"Authorization": f"Bearer {issuer.token('lab_admin')}"},
        {"Authorization": f"Bearer {issuer.token('patient')}"},
        {},
    ]
