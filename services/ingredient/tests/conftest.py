"""Fixtures of the ingredient service's tests: databases on both back ends and app clients."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from ingredient import Settings, create_app, migrate
from ingredient.catalog.seed import import_catalog, read_catalog, seed_path
from ingredient.db import create_sessionmaker, engine_for

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ingredient.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    return postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each back end: SQLite (embedded default) and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def seed_rows() -> list[dict[str, object]]:
    """The shipped seed catalog, parsed once."""
    return read_catalog(seed_path())


@pytest.fixture
async def seeded_url(database_url: str, seed_rows: list[dict[str, object]]) -> str:
    """A migrated database holding the whole seed catalog."""
    await migrate.upgrade(database_url)
    async with engine_for(database_url) as engine:
        await import_catalog(create_sessionmaker(engine), seed_rows)
    return database_url


@pytest.fixture
def make_client() -> ClientFactory:
    """Factory: an HTTP client on a fresh app (lifespan run) for the given settings."""

    @asynccontextmanager
    async def factory(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(**settings), log_stream=io.StringIO())  # type: ignore[arg-type] # test keyword settings
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ingredient") as c:
                yield c

    return factory


@pytest.fixture
async def client(seeded_url: str, make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app over the seeded database (each back end)."""
    async with make_client(database_url=seeded_url) as c:
        yield c
