"""Database resources: the declarative base (spaps-ops naming conventions) and sessions
(read-write ones, and the read sessions of the catalog's read routes).

Code running outside the app (CLI, migrations, tests) opens engines with
``spaps_ops.db.open_engine`` and derives sync URLs with ``spaps_ops.db.sync_url``."""

from __future__ import annotations

from spaps_auth import include_tables
from spaps_jobs import DeadLetterStore, Outbox
from spaps_ops.db import OpsSession, new_metadata
from spaps_webhooks import WebhookTables
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, UOWTransaction


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


class ReadOnlySession(OpsSession):
    """The sync session behind :func:`create_read_sessionmaker`'s sessions: an ORM write
    (a flush with changes, or an ``insert``/``update``/``delete`` statement) raises
    :class:`ReadOnlySessionError` before anything is sent."""


class ReadOnlySessionError(RuntimeError):
    """A write was attempted through a read session (a programming error: use a
    read-write session)."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("a read session cannot write: use a read-write session")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("a read session cannot write: use a read-write session")


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for routes that only read: each statement runs in autocommit mode, so a
    read costs its statements' round trips alone -- no ``BEGIN`` before them and no
    ``ROLLBACK`` when the session closes (two of the three round trips of a one-statement
    read on PostgreSQL).

    Each statement sees what was committed when it started, which is what PostgreSQL's
    default isolation (read committed) gives the statements of a transaction too; on
    SQLite, two statements of one read session may see different commits. Writes raise
    :class:`ReadOnlySessionError`.
    """
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        sync_session_class=ReadOnlySession,
    )
