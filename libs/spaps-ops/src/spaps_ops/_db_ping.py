"""Ping pooled PostgreSQL connections that sat idle, not at every checkout.

SQLAlchemy's ``pool_pre_ping`` costs three round trips per checkout on asyncpg (a
transaction around an empty statement); a busy service pays them on every request for
connections it used a millisecond earlier. Here a connection is pinged at checkout only
when it was idle in the pool for ``idle_after`` seconds or more; a failed ping raises
:class:`~sqlalchemy.exc.DisconnectionError`, on which the pool discards the connection
and checks out another (its documented pessimistic-disconnect extension point). A
connection that died while in steady use is found by its next statement instead: the
request gets the usual outage answer and SQLAlchemy invalidates the pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["ping_when_idle"]

_CHECKED_IN = "spaps_checked_in"


def ping_when_idle(
    engine: AsyncEngine, *, idle_after: float, clock: Callable[[], float] = time.monotonic
) -> None:
    """Ping ``engine``'s pooled connections at checkout once idle for ``idle_after`` s."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = clock()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.pop(_CHECKED_IN, None)
        if checked_in is None or clock() - checked_in < idle_after:
            return  # a new connection, or one in steady use
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)
