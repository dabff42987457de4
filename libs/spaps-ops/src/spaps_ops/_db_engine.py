"""Async engine and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from ._db_migrations import migration_check
from ._db_models import OpsSession
from ._db_outage import DatabaseUnavailableError, is_database_outage, outage_handler
from ._db_ping import ping_when_idle
from ._errors import OpsNotConfiguredError, StaleWriteError
from ._problem import response_for_exception
from ._state import get_ops

_STATE_KEY = "spaps_database"
_log = structlog.get_logger("spaps.db")


def async_url(url: str) -> str:
    """Rewrite a database URL to its async driver (``aiosqlite``, ``asyncpg``).

    Args:
        url: ``sqlite:///file.db``, ``sqlite://`` (memory), ``postgresql://...`` (or
            ``postgres://``); URLs already naming a driver are kept.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, wal: bool) -> None:
    cursor = dbapi_connection.cursor()
    # foreign keys are off by default in SQLite; WAL lets readers run during a write.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if wal:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_bounds(
    driver: str, connect_timeout: float, statement_timeout: float | None
) -> dict[str, Any]:
    if driver.endswith("psycopg"):
        args: dict[str, Any] = {"connect_timeout": max(1, round(connect_timeout))}
        if statement_timeout is not None:
            args["options"] = f"-c statement_timeout={round(statement_timeout * 1000)}"
        return args
    args = {"timeout": connect_timeout, "command_timeout": statement_timeout}
    if statement_timeout is not None:
        args["server_settings"] = {"statement_timeout": str(round(statement_timeout * 1000))}
    return args


class Database:
    """An async engine plus its session factory; a resource for ``create_app``.

    SQLite file databases get WAL, ``foreign_keys=ON`` and a busy timeout, and their
    parent directory is created; ``sqlite://`` is one shared in-memory database.
    PostgreSQL uses asyncpg; a pooled connection is pinged when it is checked out after
    sitting idle for ``ping_idle_after`` seconds (not at every checkout, which costs three
    round trips a request on asyncpg). Its pool keeps ``pool_size`` connections open and
    opens up to ``max_overflow`` more under load, closing each of those when it is
    returned to a full pool: an async worker serves many requests at once, and a pool
    smaller than their number opens (connects, authenticates, prepares) a new connection
    for a share of its requests. Size it to a worker's concurrent requests, keeping
    workers x (``pool_size`` + ``max_overflow``) below the server's ``max_connections``.

    Args:
        url: database URL (sync scheme accepted, see :func:`async_url`).
        echo: log SQL.
        engine_options: extra ``create_async_engine`` keyword arguments (they win over
            the bounds below).
        connect_timeout: seconds a new connection may take (PostgreSQL).
        statement_timeout: seconds a statement may run, checked by the client (a frozen
            server) and the server; ``None`` for no bound (PostgreSQL).
        pool_timeout: seconds a request waits for a pooled connection (PostgreSQL).
        ping_idle_after: seconds a pooled connection may sit idle before its next checkout
            pings it (PostgreSQL); ``0`` pings at every checkout.
        pool_size: connections the pool keeps open (PostgreSQL).
        max_overflow: connections it may open beyond ``pool_size`` under load, closed
            again when returned to a full pool (PostgreSQL).

    A database that is down, or frozen, thus costs a request at most about
    ``connect_timeout`` (or ``pool_timeout``) plus ``statement_timeout``; the request is
    then answered 503 ``ops.database_unavailable`` (see :func:`use_database`).

    .. versionchanged:: 0.3.0 ``connect_timeout``, ``statement_timeout``, ``pool_timeout``.
    .. versionchanged:: 0.7.1 ``ping_idle_after`` (was a ping at every checkout).
    .. versionchanged:: 0.7.2 ``pool_size`` (was SQLAlchemy's 5) and ``max_overflow``.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        engine_options: dict[str, Any] | None = None,
        connect_timeout: float = 10.0,
        statement_timeout: float | None = 30.0,
        pool_timeout: float = 10.0,
        ping_idle_after: float = 1.0,
        pool_size: int = 20,
        max_overflow: int = 10,
    ) -> None:
        self.url = async_url(url)
        parsed = make_url(self.url)
        options: dict[str, Any] = {"echo": echo}
        if parsed.get_backend_name() == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            if memory:
                options["poolclass"] = StaticPool
                options["connect_args"] = {"check_same_thread": False}
            else:
                Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        else:
            options["pool_pre_ping"] = ping_idle_after <= 0
            options["pool_timeout"] = pool_timeout
            options["pool_size"] = pool_size
            options["max_overflow"] = max_overflow
            options["connect_args"] = _postgres_bounds(
                parsed.drivername, connect_timeout, statement_timeout
            )
        options.update(engine_options or {})
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if parsed.get_backend_name() == "sqlite":
            wal = not memory

            def on_connect(dbapi_connection: Any, record: Any) -> None:
                _sqlite_pragmas(dbapi_connection, record, wal=wal)

            event.listen(self.engine.sync_engine, "connect", on_connect)
        elif ping_idle_after > 0:
            ping_when_idle(self.engine, idle_after=ping_idle_after)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=OpsSession
        )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        """A new session (use as ``async with db.session() as session:``)."""
        return self.sessions()

    async def ping(self) -> None:
        """Run ``SELECT 1``; a readiness check."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def aclose(self) -> None:
        """Dispose of the engine's pool."""
        await self.engine.dispose()


async def _stale_handler(request: Request, exc: Exception) -> Response:
    return response_for_exception(StaleWriteError(), request.scope)


def use_database(
    app: FastAPI,
    database: Database,
    *,
    check_name: str = "database",
    migrations: str | Path | None = None,
) -> Database:
    """Wire ``database`` into an app built by ``create_app``.

    Registers it as a resource (disposed at shutdown), adds a readiness check, makes
    :func:`get_session` / :data:`SessionDep` find it, and answers SQLAlchemy's
    ``StaleDataError`` (optimistic-lock conflict) with a 409 problem and a database
    outage (connection refused or lost, connect, pool or statement timeout) with a 503
    ``ops.database_unavailable`` problem carrying ``Retry-After``. With
    ``migrations``, a ``migrations`` check also compares the database's Alembic revision
    with the scripts' head(s), shown in ``/health``.

    Args:
        app: the app.
        database: the database.
        check_name: name of the readiness check.
        migrations: the Alembic scripts directory (holding ``versions/``), if any.
    """
    ops = get_ops(app)
    ops.add_resource(database)
    ops.add_check(check_name, database.ping)
    if migrations is not None:
        ops.add_check("migrations", migration_check(database.engine, migrations))
    setattr(app.state, _STATE_KEY, database)
    app.add_exception_handler(StaleDataError, _stale_handler)
    # a driver's refused connect or timeout can reach the app unwrapped by SQLAlchemy
    for outage in (DBAPIError, PoolTimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(outage, outage_handler)
    return database


def get_database(source: FastAPI | HTTPConnection) -> Database:
    """The :class:`Database` given to :func:`use_database`.

    Raises:
        OpsNotConfiguredError: ``use_database`` was not called for this app.
    """
    app = source.app if isinstance(source, HTTPConnection) else source
    database = getattr(app.state, _STATE_KEY, None)
    if not isinstance(database, Database):
        raise OpsNotConfiguredError("no database on this app: call use_database(app, db)")
    return database


@asynccontextmanager
async def session_scope(
    sessions: Callable[[], AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session from ``sessions`` for one unit of work, closed (rolled back if not
    committed) at the end, for dependencies that build their own sessions (a tenant-filtered
    sessionmaker, say) and want :func:`get_session`'s outage behaviour.

    A database outage raised inside becomes :class:`DatabaseUnavailableError` (503
    ``ops.database_unavailable``). An error while closing (the connection died under the
    session) is logged as ``session_close_failed`` and never escapes: the answer, already
    decided, is kept and the client's connection is not dropped.

    .. versionadded:: 0.3.0
    """
    session = sessions()
    try:
        yield session
    except Exception as exc:
        if is_database_outage(exc):
            raise DatabaseUnavailableError() from exc
        raise
    finally:
        try:
            await session.close()
        except Exception as exc:  # logged; the answer is already decided
            _log.warning("session_close_failed", error=type(exc).__name__)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: a session for this request, closed (rolled back if not
    committed) afterwards. Commit explicitly in the route.

    A database outage raised in the route becomes 503 ``ops.database_unavailable``. An
    error while closing the session (the connection died) is logged and never escapes:
    the response, already decided, is kept (:func:`session_scope`).
    """
    async with session_scope(get_database(request).sessions) as session:
        yield session


#: ``session: SessionDep`` in a route signature.
SessionDep = Annotated[AsyncSession, Depends(get_session)]
