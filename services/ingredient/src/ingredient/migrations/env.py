"""Alembic environment of the ingredient service.

Runs on the connection the caller put in ``config.attributes["connection"]`` (see
``ingredient.migrate``), or else opens one from ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from ingredient.catalog import models  # noqa: F401 -- registers the tables on the metadata
from ingredient.catalog.search import SEARCH_OBJECTS
from ingredient.db import Base, engine_for
from sqlalchemy import Connection

target_metadata = Base.metadata


def include_object(
    _obj: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Leave the dialect-specific search objects (created by 0001 only) to the migrations."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
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
