"""What every ``htma`` command shares: the settings, running a coroutine with one-line
errors, the ``--database-url`` option and the schema check.

Every failure prints one line ``error: ...`` on stderr and exits non-zero: 1 for a
failed operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from spaps_auth import SpapsAuthError
from spaps_ops.db import CommandErrors

from htma.errors import CommandError, HtmaError
from htma.migrate import MIGRATIONS
from htma.settings import Settings

T = TypeVar("T")


def settings_for(database_url: str | None = None) -> Settings:
    """The settings (``HTMA_*``), with ``database_url`` when given; bad ones exit 1."""
    with CommandErrors():
        return Settings(database_url=database_url) if database_url else Settings()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; htma's, spaps-auth's, database and settings errors exit 1."""
    with CommandErrors(HtmaError, SpapsAuthError, ValueError):
        return asyncio.run(coroutine)


async def require_schema(database_url: str) -> None:
    """Raise :class:`CommandError` unless the database is migrated to the head."""
    if not (await MIGRATIONS.status(database_url)).up_to_date:
        raise CommandError("the database schema is not up to date: run `htma migrate` first")


database_url_option = click.option(
    "--database-url",
    envvar="HTMA_DATABASE_URL",
    help="SQLAlchemy URL (default: HTMA_DATABASE_URL or a SQLite file under .data/)",
)
quiet_option = click.option("--quiet", is_flag=True, help="no progress bar")
