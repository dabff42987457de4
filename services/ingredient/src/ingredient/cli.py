"""The ``ingredient`` command: migrations, seed import, operator commands (reference
data, derived data, scheduled jobs, catalog editors) and a development server.

Every failure prints one line ``error: ...`` on stderr and exits non-zero:
1 for a failed operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from click.core import ParameterSource
from spaps_auth import ApiKeyManager
from spaps_jobs import SpapsJobsError, run_scheduled
from spaps_ops import configure_logging, server_options
from spaps_ops.db import CommandErrors, open_engine
from sqlalchemy.ext.asyncio import AsyncSession

from ingredient.access import PLAN_SCOPE
from ingredient.app import API_KEY_PREFIX, create_app
from ingredient.catalog import audit, search_index
from ingredient.catalog.seed import import_catalog, read_catalog, seed_catalog, seed_path
from ingredient.db import create_sessionmaker
from ingredient.errors import IngredientError
from ingredient.events import build_webhooks
from ingredient.jobs import create_jobs
from ingredient.migrate import MIGRATIONS
from ingredient.settings import Settings

T = TypeVar("T")


def _settings(database_url: str | None) -> Settings:
    with CommandErrors():
        return Settings(database_url=database_url) if database_url else Settings()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with CommandErrors(IngredientError):
        return asyncio.run(coroutine)


database_url_option = click.option(
    "--database-url",
    envvar="INGREDIENT_DATABASE_URL",
    help="SQLAlchemy URL (default: INGREDIENT_DATABASE_URL or a SQLite file under .data/)",
)


@click.group()
def main() -> None:
    """Ingredient catalog service."""


@main.group("migrate", invoke_without_command=True)
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
    settings = _settings(database_url)
    target = revision or "head"
    _run(MIGRATIONS.upgrade(settings.database_url, target))
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
    settings = _settings(database_url)
    status = _run(MIGRATIONS.status(settings.database_url))
    click.echo(f"current: {_revisions(status.current)}")
    click.echo(f"head: {_revisions(status.heads)}")
    click.echo(f"pending: {_revisions(status.pending)}")
    if status.unknown:
        click.echo(f"unknown: {_revisions(status.unknown)}")
    click.echo(f"state: {status.state}")


def _revisions(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "none"


@main.command("downgrade")
@database_url_option
@click.option("--revision", default="base", show_default=True, help="target revision")
def downgrade_command(database_url: str | None, revision: str) -> None:
    """Downgrade the database schema (default: drop everything)."""
    settings = _settings(database_url)
    _run(MIGRATIONS.downgrade(settings.database_url, revision))
    click.echo(f"database at revision {revision}")


@main.command("import-catalog")
@database_url_option
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="catalog CSV (.csv or .csv.gz); default: the IFCT 2017 seed shipped with the service",
)
@click.option(
    "--migrate/--no-migrate", "run_migrations", default=False, help="upgrade the schema first"
)
@click.option("--quiet", is_flag=True, help="no progress bar")
def import_catalog_command(
    database_url: str | None, path: Path | None, run_migrations: bool, quiet: bool
) -> None:
    """Import (insert or update by code) a catalog of ingredients."""
    settings = _settings(database_url)
    source = path or seed_path()
    with CommandErrors(IngredientError):
        rows = read_catalog(source)

    async def work() -> tuple[int, int]:
        await _schema_ready(settings.database_url, run_migrations=run_migrations)
        async with open_engine(settings.database_url) as engine:
            sessionmaker = create_sessionmaker(engine)
            with _progress(len(rows), f"importing {source.name}", quiet=quiet) as bar:
                return await import_catalog(sessionmaker, rows, progress=bar.update)

    created, updated = _run(work())
    unchanged = len(rows) - created - updated
    click.echo(
        f"imported {len(rows)} ingredients: {created} new, {updated} updated, {unchanged} unchanged"
    )


async def _schema_ready(database_url: str, *, run_migrations: bool = False) -> None:
    """Upgrade the schema (``run_migrations``), or refuse a database not at the head."""
    if run_migrations:
        await MIGRATIONS.upgrade(database_url)
    elif not (await MIGRATIONS.status(database_url)).up_to_date:
        raise IngredientError(
            "the database schema is not up to date: run `ingredient migrate` first"
        )


def _progress(length: int, label: str, *, quiet: bool) -> Any:
    """A progress bar on stderr (stdout keeps the command's result)."""
    return click.progressbar(length=length, label=label, file=sys.stderr, hidden=quiet)


@main.command("seed")
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
    settings = _settings(database_url)
    source = seed_path()
    with CommandErrors(IngredientError):
        rows = read_catalog(source)

    async def work() -> tuple[int, int]:
        await _schema_ready(settings.database_url, run_migrations=run_migrations)
        async with open_engine(settings.database_url) as engine:
            label = f"seeding {source.name}"
            with _progress(len(rows), label, quiet=quiet) as bar:
                return await seed_catalog(create_sessionmaker(engine), rows, progress=bar.update)

    created, found = _run(work())
    click.echo(f"catalog: {created} ingredients created, {found} found")


@main.group("backfill")
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
    settings = _settings(database_url)

    async def work() -> int:
        await _schema_ready(settings.database_url)
        async with open_engine(settings.database_url) as engine:
            total = await search_index.count_ingredients(engine)
            with _progress(total, "indexing ingredients", quiet=quiet) as bar:
                return await search_index.rebuild_search_index(
                    engine, batch_size=batch_size, progress=bar.update
                )

    click.echo(f"search index: {_run(work())} ingredients indexed")


@main.command("run-scheduled")
@database_url_option
@click.argument("name")
def run_scheduled_command(database_url: str | None, name: str) -> None:
    """Run the scheduled job NAME now, in this process.

    Prints its result; its log lines go to stderr.

    `webhooks.deliver`: one pass of the webhook delivery loop the API runs in the
    background (relay the outbox, attempt new and due deliveries); prints the attempts.
    """
    settings = _settings(database_url)
    # The task's log lines (started, succeeded, duration) go with the errors, on stderr.
    configure_logging(
        level=settings.log_level, json=settings.log_json, stream=sys.stderr, batch_writes=False
    )
    jobs = create_jobs(settings)
    try:
        with CommandErrors(IngredientError, SpapsJobsError):
            if name in jobs.celery.conf.beat_schedule:  # else run_scheduled names the known
                asyncio.run(_schema_ready(settings.database_url))
            result = run_scheduled(jobs.celery, name)
    finally:
        jobs.close()
    click.echo(f"ran {name}: {result}")


@main.command("create-api-key")
@database_url_option
@click.option("--name", required=True, help="label, e.g. the client's name")
@click.option("--plan", default="free", show_default=True, help="rate-limit plan")
@click.option("--owner", default="public", show_default=True, help="who owns the key")
def create_api_key(database_url: str | None, name: str, plan: str, owner: str) -> None:
    """Create an API key for the read API; the key is printed once."""
    settings = _settings(database_url)
    if plan not in settings.plans:
        sys.exit(f"error: unknown plan {plan!r} (known: {', '.join(sorted(settings.plans))})")

    async def work() -> str:
        async with open_engine(settings.database_url) as engine:
            manager = ApiKeyManager(engine, prefix=API_KEY_PREFIX)
            created = await manager.create(owner, name=name, scopes=[f"{PLAN_SCOPE}{plan}"])
            return created.key

    click.echo(_run(work()))


@main.group("editors")
def editors_group() -> None:
    """The platform permission to edit the shared catalog (no clinic role carries it)."""


actor_option = click.option(
    "--by", "actor", required=True, help="the operator's name, recorded in the audit trail"
)


async def _in_session(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    if not (await MIGRATIONS.status(database_url)).up_to_date:
        raise IngredientError("the database schema is not up to date: run `ingredient migrate`")
    async with open_engine(database_url) as engine, create_sessionmaker(engine)() as session:
        return await work(session)


F = TypeVar("F", bound=Callable[..., Any])
_Change = Callable[..., Awaitable[bool]]  # audit.grant / audit.revoke


def _subject_and_actor(command: F) -> F:
    """The arguments of ``editors grant`` and ``editors revoke``: SUBJECT and ``--by``."""
    return database_url_option(click.argument("subject")(actor_option(command)))


def _change_editor(
    database_url: str | None, subject: str, actor: str, change: _Change, *, done: str, kept: str
) -> None:
    """Apply ``change`` to SUBJECT's permission as the operator ACTOR (audited); print
    ``done``, or ``kept`` when it was already so."""
    settings = _settings(database_url)
    operator = f"operator:{actor}"
    changed = _run(_in_session(settings.database_url, lambda s: change(s, subject, actor=operator)))
    click.echo(done if changed else kept)


@editors_group.command("grant")
@_subject_and_actor
def grant_command(database_url: str | None, subject: str, actor: str) -> None:
    """Let the htma user SUBJECT (its id, the tokens' sub) edit the catalog (audited)."""
    _change_editor(
        database_url, subject, actor, audit.grant,
        done=f"granted catalog editing to {subject}", kept=f"{subject} already holds it",
    )  # fmt: skip


@editors_group.command("revoke")
@_subject_and_actor
def revoke_command(database_url: str | None, subject: str, actor: str) -> None:
    """Take the permission back from SUBJECT (audited)."""
    _change_editor(
        database_url, subject, actor, audit.revoke,
        done=f"revoked catalog editing from {subject}", kept=f"{subject} held none",
    )  # fmt: skip


@editors_group.command("list")
@database_url_option
def list_editors_command(database_url: str | None) -> None:
    """Every holder: subject, who granted it, when."""
    settings = _settings(database_url)
    for row in _run(_in_session(settings.database_url, audit.list_editors)):
        click.echo(f"{row.subject}\t{row.granted_by}\t{row.granted_at.isoformat()}")


@main.group("edits")
def edits_group() -> None:
    """The record of catalog edits: list them, revert one."""


@edits_group.command("list")
@database_url_option
@click.option("--code", default=None, help="only this ingredient's edits")
def list_edits_command(database_url: str | None, code: str | None) -> None:
    """One JSON line per edit: id, code, actor, at, before, after, reverts."""
    settings = _settings(database_url)
    for edit in _run(_in_session(settings.database_url, lambda s: audit.list_edits(s, code))):
        record = {"id": edit.id, "code": edit.code, "actor": edit.actor,
                  "at": edit.at.isoformat(), "before": edit.before, "after": edit.after,
                  "reverts": edit.reverts}  # fmt: skip
        click.echo(json.dumps(record))


@edits_group.command("revert")
@database_url_option
@click.argument("edit_id", type=int)
@actor_option
def revert_command(database_url: str | None, edit_id: int, actor: str) -> None:
    """Put back what edit EDIT_ID replaced (recorded as a new edit, published)."""
    settings = _settings(database_url)
    runtime = build_webhooks(settings)
    try:
        edit = _run(_in_session(settings.database_url, lambda s: audit.revert_edit(
            s, runtime.webhooks, edit_id, actor=f"operator:{actor}")))  # fmt: skip
    finally:
        runtime.engine.dispose()
    click.echo(f"reverted edit {edit_id} of {edit.code} as edit {edit.id}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Run the API with uvicorn (one process; use a process manager in production).

    Proxy headers (``X-Forwarded-For``) are believed only from ``INGREDIENT_TRUSTED_PROXIES``.
    """
    settings = _settings(None)
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


if __name__ == "__main__":
    main()
