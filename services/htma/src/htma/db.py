"""Database resources: the declarative base and the tenant-filtered session class.

Code running outside the app (CLI, migrations, worker, tests) opens engines with
``spaps_ops.db.open_engine`` and derives sync URLs with ``spaps_ops.db.sync_url``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spaps_auth import include_tables
from spaps_jobs import AsyncSqlDedupeStore, DeadLetterStore, Outbox
from spaps_ops.db import OpsSession, new_metadata
from spaps_tenancy import TenantSession, install_rls, install_tenant_filter
from spaps_webhooks import WebhookTables
from sqlalchemy import DateTime, Dialect, TypeDecorator, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that reads back aware UTC on every backend: SQLite
    drops the offset, so the API would otherwise serve ``date-time`` values without one."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every htma model (one metadata, stable constraint names)."""

    metadata = new_metadata()


# The auth_* tables of spaps-auth, the spaps-jobs outbox and the spaps-webhooks tables
# live in htma's database and migrations. The outbox tracks confirmations: a message is
# done when its consumer records it, and the worker's relay sends it again until then.
include_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata, confirmations=True)
WEBHOOK_TABLES = WebhookTables(Base.metadata)
# spaps-jobs defines its idempotency/dedupe table through a store only; building one on
# an engine that never connects puts the table on our metadata, so Alembic manages it.
# Kept for their tables and their retention targets (htma.retention).
DEDUPE = AsyncSqlDedupeStore(create_async_engine("sqlite+aiosqlite://"), metadata=Base.metadata)
DEDUPE_TABLE = DEDUPE.table
# Likewise the dead-letter table (migration 0007), so the worker's role needs no CREATE.
DEAD_LETTERS = DeadLetterStore(create_engine("sqlite://"), metadata=Base.metadata)
DEAD_LETTERS_TABLE = DEAD_LETTERS.table


class HtmaSession(TenantSession, OpsSession):
    """Sync session behind every async session: tenant filter + spaps-ops soft delete."""


install_tenant_filter(HtmaSession)
# PostgreSQL: every transaction also sets app.tenant_id for the row-level security
# policies (migration 0004), a second wall for raw SQL.
install_rls(HtmaSession)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions filtered and stamped by the current clinic (``spaps_tenancy``)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=HtmaSession)
