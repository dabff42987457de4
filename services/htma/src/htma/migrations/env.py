"""Alembic environment of the htma service (its models plus the spaps-auth tables).

Runs on the connection the caller put in ``config.attributes["connection"]`` (see
``htma.migrate``), or else opens one from ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from htma.db import engine_for
from htma.models import Base
from sqlalchemy import Connection

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    async with engine_for(url) as engine, engine.begin() as connection:
        await connection.run_sync(_run)


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
