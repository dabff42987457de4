"""The operator commands: ``migrate`` (and ``migrate status``), ``seed``, ``backfill``
and ``run-scheduled``; :mod:`ingredient.cli` adds them to the ``ingredient`` group."""

from __future__ import annotations

import asyncio
import sys

import click
from click.core import ParameterSource
from spaps_jobs import SpapsJobsError, run_scheduled
from spaps_ops import configure_logging
from spaps_ops.db import CommandErrors, open_engine

from ingredient.catalog import search_index
from ingredient.catalog.seed import read_catalog, seed_catalog, seed_path
from ingredient.cli_common import (
    database_url_option,
    load_settings,
    progress_bar,
    run,
    schema_ready,
)
from ingredient.db import create_sessionmaker
from ingredient.errors import IngredientError
from ingredient.jobs import create_jobs
from ingredient.migrate import MIGRATIONS


@click.group("migrate", invoke_without_command=True)
@database_url_option
@click.option("--revision", default=None, help="target revision  [default: head]")
@click.pass_context
def migrate_group(ctx: click.Context, database_url: str | None, revision: str | None) -> None:
    """Upgrade the database schema (`migrate status`: where it stands)."""
    if ctx.invoked_subcommand is not None:
        if revision is not None:
            raise click.UsageError("--revision is an option of the upgrade, not of a subcommand")
        # `migrate --database-url X status` names the database for the subcommand.
        if ctx.get_parameter_source("database_url") is ParameterSource.COMMANDLINE:
            ctx.obj = database_url
        return
    settings = load_settings(database_url)
    target = revision or "head"
    run(MIGRATIONS.upgrade(settings.database_url, target))
    click.echo(f"database at revision {target}")


@migrate_group.command("status")
@database_url_option
@click.pass_context
def migrate_status_command(ctx: click.Context, database_url: str | None) -> None:
    """Current revision, head and pending revisions (oldest first).

    States: current, behind (migrations pending), ahead (a newer release migrated the
    database: revisions unknown here), divergent (both). Exits 0 whatever the state.
    """
    if ctx.get_parameter_source("database_url") is not ParameterSource.COMMANDLINE:
        database_url = ctx.obj or database_url
    settings = load_settings(database_url)
    status = run(MIGRATIONS.status(settings.database_url))
    click.echo(f"current: {_revisions(status.current)}")
    click.echo(f"head: {_revisions(status.heads)}")
    click.echo(f"pending: {_revisions(status.pending)}")
    if status.unknown:
        click.echo(f"unknown: {_revisions(status.unknown)}")
    click.echo(f"state: {status.state}")


def _revisions(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "none"


@click.command("seed")
@database_url_option
@click.option(
    "--migrate/--no-migrate", "run_migrations", default=False, help="upgrade the schema first"
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def seed_command(database_url: str | None, run_migrations: bool, quiet: bool) -> None:
    """Create missing reference data; leave what exists alone.

    The IFCT 2017 catalog shipped with the service: ingredients whose code is missing
    are created, present ones are left as they are (editors' changes survive; use
    `import-catalog` to overwrite). Safe to run on every deployment.
    """
    settings = load_settings(database_url)
    source = seed_path()
    with CommandErrors(IngredientError):
        rows = read_catalog(source)

    async def work() -> tuple[int, int]:
        await schema_ready(settings.database_url, run_migrations=run_migrations)
        async with open_engine(settings.database_url) as engine:
            label = f"seeding {source.name}"
            with progress_bar(len(rows), label, quiet=quiet) as bar:
                return await seed_catalog(create_sessionmaker(engine), rows, progress=bar.update)

    created, found = run(work())
    click.echo(f"catalog: {created} ingredients created, {found} found")


@click.group("backfill")
def backfill_group() -> None:
    """Rebuild derived data from its source rows (idempotent)."""


@backfill_group.command("search-index")
@database_url_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=search_index.BATCH_SIZE,
    show_default=True,
    help="ingredients per batch",
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def backfill_search_index_command(database_url: str | None, batch_size: int, quiet: bool) -> None:
    """Rebuild the full-text search index of every ingredient.

    SQLite: the FTS5 index is refilled in one transaction (searches see the old index
    until it commits). PostgreSQL: the search vectors are recomputed, one transaction
    per batch.
    """
    settings = load_settings(database_url)

    async def work() -> int:
        await schema_ready(settings.database_url)
        async with open_engine(settings.database_url) as engine:
            total = await search_index.count_ingredients(engine)
            with progress_bar(total, "indexing ingredients", quiet=quiet) as bar:
                return await search_index.rebuild_search_index(
                    engine, batch_size=batch_size, progress=bar.update
                )

    click.echo(f"search index: {run(work())} ingredients indexed")


@click.command("run-scheduled")
@database_url_option
@click.argument("name")
def run_scheduled_command(database_url: str | None, name: str) -> None:
    """Run the scheduled job NAME now, in this process.

    Prints its result; its log lines go to stderr.

    `webhooks.deliver`: one pass of the webhook delivery loop the API runs in the
    background (relay the outbox, attempt new and due deliveries); prints the attempts.
    """
    settings = load_settings(database_url)
    # The task's log lines (started, succeeded, duration) go with the errors, on stderr.
    configure_logging(
        level=settings.log_level, json=settings.log_json, stream=sys.stderr, batch_writes=False
    )
    jobs = create_jobs(settings)
    try:
        with CommandErrors(IngredientError, SpapsJobsError):
            if name in jobs.celery.conf.beat_schedule:  # else run_scheduled names the known
                asyncio.run(schema_ready(settings.database_url))
            result = run_scheduled(jobs.celery, name)
    finally:
        jobs.close()
    click.echo(f"ran {name}: {result}")


COMMANDS = (migrate_group, seed_command, backfill_group, run_scheduled_command)
