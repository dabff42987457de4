"""Fixtures of the htma service's tests: databases on both back ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from htma import migrate
from htma.db import create_sessionmaker, engine_for
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'htma.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    return postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each back end: SQLite (embedded default) and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Tenant-filtered sessions on a migrated database."""
    await migrate.upgrade(database_url)
    async with engine_for(database_url) as engine:
        yield create_sessionmaker(engine)
