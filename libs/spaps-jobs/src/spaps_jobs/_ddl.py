"""Create a library table when it is missing, safely while other processes do the same.

``Table.create(checkfirst=True)`` checks, then creates: two processes starting at once
(several workers, a worker and a CLI) can both find the table missing, and the second
``CREATE TABLE`` then fails ("table ... already exists" on SQLite; a duplicate table or a
unique violation in PostgreSQL's catalog). Losing that race is success: the table exists.
"""

from __future__ import annotations

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["create_table", "create_table_async"]


def _exists(conn: Connection, table: Table) -> bool:
    return inspect(conn).has_table(table.name, schema=table.schema)


def create_table(table: Table, engine: Engine) -> None:
    """Create ``table`` (with its indexes) unless it exists, whoever else is creating it."""
    try:
        table.create(engine, checkfirst=True)
    except DBAPIError:
        # Another process created it between our check and our CREATE (its transaction
        # made the table and its indexes at once); anything else is a real error.
        with engine.connect() as conn:
            if not _exists(conn, table):
                raise


async def create_table_async(table: Table, engine: AsyncEngine) -> None:
    """:func:`create_table` through an ``AsyncEngine``."""
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: table.create(sync, checkfirst=True))
    except DBAPIError:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: _exists(sync, table)):
                raise
