"""Database resources: the declarative base (spaps-ops naming conventions) and sessions.

Code running outside the app (CLI, migrations, tests) opens engines with
``spaps_ops.db.open_engine`` and derives sync URLs with ``spaps_ops.db.sync_url``."""

from __future__ import annotations

from spaps_auth import include_tables
from spaps_jobs import DeadLetterStore, Outbox
from spaps_ops.db import new_metadata
from spaps_webhooks import WebhookTables
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every ingredient model (one metadata, stable constraint names)."""

    metadata = new_metadata()


# spaps-auth's tables (API keys), the spaps-jobs outbox and the spaps-webhooks tables
# live in ingredient's database and migrations.
# The outbox tracks confirmations: the delivery loop confirms a message once fanned out
# and its relay sends again what stays unconfirmed.
include_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata, confirmations=True)
WEBHOOK_TABLES = WebhookTables(Base.metadata)
# spaps-jobs defines the dead-letter table through a store only; one on an engine that
# never connects puts the table on our metadata, so the migrations (0006) create it.
DEAD_LETTERS = DeadLetterStore(create_engine("sqlite://"), metadata=Base.metadata)
DEAD_LETTERS_TABLE = DEAD_LETTERS.table


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory for ``engine`` (objects stay loaded after commit)."""
    return async_sessionmaker(engine, expire_on_commit=False)
