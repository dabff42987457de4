"""Database resources: the declarative base (spaps-ops naming conventions) and engines for
code running outside the app (CLI, migrations, tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from spaps_auth import include_tables
from spaps_jobs import Outbox
from spaps_ops.db import Database, new_metadata
from spaps_webhooks import WebhookTables
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every ingredient model (one metadata, stable constraint names)."""

    metadata = new_metadata()


# spaps-auth's tables (API keys), the spaps-jobs outbox and the spaps-webhooks tables
# live in ingredient's database and migrations.
include_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata)
WEBHOOK_TABLES = WebhookTables(Base.metadata)


def sync_url(database_url: str) -> str:
    """The synchronous URL of the same database (for the outbox relay and webhooks)."""
    for prefix, replacement in (
        ("sqlite+aiosqlite://", "sqlite://"),
        ("postgresql+asyncpg://", "postgresql+psycopg://"),
    ):
        if database_url.startswith(prefix):
            return replacement + database_url[len(prefix) :]
    raise ValueError(f"no synchronous driver for {database_url!r}")


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
