"""Database resources: the declarative base (spaps-ops naming conventions) and engines for
code running outside the app (CLI, migrations, tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from spaps_ops.db import Database, new_metadata
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every ingredient model (one metadata, stable constraint names)."""

    metadata = new_metadata()


@asynccontextmanager
async def engine_for(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield an engine configured like the app's (a spaps-ops ``Database``), then dispose of it."""
    database = Database(database_url)
    try:
        yield database.engine
    finally:
        await database.aclose()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory for ``engine`` (objects stay loaded after commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)
