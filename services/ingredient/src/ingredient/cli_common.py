"""What the ``ingredient`` commands share: settings, one-line failures, the database
option, the schema check and progress bars."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from spaps_ops.db import CommandErrors

from ingredient.errors import IngredientError
from ingredient.migrate import MIGRATIONS
from ingredient.settings import Settings

T = TypeVar("T")

NOT_MIGRATED = "the database schema is not up to date: run `ingredient migrate` first"


def load_settings(database_url: str | None) -> Settings:
    """The settings, with ``--database-url`` when given; invalid ones exit with one line."""
    with CommandErrors():
        return Settings(database_url=database_url) if database_url else Settings()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's work; a known failure exits with one line ``error: ...``."""
    with CommandErrors(IngredientError):
        return asyncio.run(coroutine)


database_url_option = click.option(
    "--database-url",
    envvar="INGREDIENT_DATABASE_URL",
    help="SQLAlchemy URL (default: INGREDIENT_DATABASE_URL or a SQLite file under .data/)",
)


async def schema_ready(database_url: str, *, run_migrations: bool = False) -> None:
    """Upgrade the schema (``run_migrations``), or refuse a database not at the head."""
    if run_migrations:
        await MIGRATIONS.upgrade(database_url)
    elif not (await MIGRATIONS.status(database_url)).up_to_date:
        raise IngredientError(NOT_MIGRATED)


def progress_bar(length: int, label: str, *, quiet: bool) -> Any:
    """A progress bar on stderr (stdout keeps the command's result)."""
    return click.progressbar(length=length, label=label, file=sys.stderr, hidden=quiet)
