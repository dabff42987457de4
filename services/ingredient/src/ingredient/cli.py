"""The ``ingredient`` command: migrations, seed import, API keys, catalog editors and
edits, a development server, and the operator commands of :mod:`ingredient.cli_operator`
(migration status, reference data, derived data, scheduled jobs).

Every failure prints one line ``error: ...`` on stderr and exits non-zero:
1 for a failed operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from spaps_auth import ApiKeyManager
from spaps_ops import server_options
from spaps_ops.db import CommandErrors, open_engine
from sqlalchemy.ext.asyncio import AsyncSession

from ingredient.access import PLAN_SCOPE
from ingredient.app import API_KEY_PREFIX, create_app
from ingredient.catalog import audit
from ingredient.catalog.seed import import_catalog, read_catalog, seed_path
from ingredient.cli_common import (
    database_url_option,
    load_settings,
    progress_bar,
    run,
    schema_ready,
)
from ingredient.cli_lifecycle import COMMANDS as LIFECYCLE
from ingredient.cli_operator import COMMANDS
from ingredient.db import create_sessionmaker
from ingredient.errors import IngredientError
from ingredient.events import build_webhooks
from ingredient.migrate import MIGRATIONS

T = TypeVar("T")


@click.group()
def main() -> None:
    """Ingredient catalog service."""


for _command in (*COMMANDS, *LIFECYCLE):  # migrate, seed, backfill, run-scheduled, purge, worker
    main.add_command(_command)


@main.command("downgrade")
@database_url_option
@click.option("--revision", default="base", show_default=True, help="target revision")
def downgrade_command(database_url: str | None, revision: str) -> None:
    """Downgrade the database schema (default: drop everything)."""
    settings = load_settings(database_url)
    run(MIGRATIONS.downgrade(settings.database_url, revision))
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
    settings = load_settings(database_url)
    source = path or seed_path()
    with CommandErrors(IngredientError):
        rows = read_catalog(source)

    async def work() -> tuple[int, int]:
        await schema_ready(settings.database_url, run_migrations=run_migrations)
        async with open_engine(settings.database_url) as engine:
            sessionmaker = create_sessionmaker(engine)
            with progress_bar(len(rows), f"importing {source.name}", quiet=quiet) as bar:
                return await import_catalog(sessionmaker, rows, progress=bar.update)

    created, updated = run(work())
    unchanged = len(rows) - created - updated
    click.echo(
        f"imported {len(rows)} ingredients: {created} new, {updated} updated, {unchanged} unchanged"
    )


@main.command("create-api-key")
@database_url_option
@click.option("--name", required=True, help="label, e.g. the client's name")
@click.option("--plan", default="free", show_default=True, help="rate-limit plan")
@click.option("--owner", default="public", show_default=True, help="who owns the key")
def create_api_key(database_url: str | None, name: str, plan: str, owner: str) -> None:
    """Create an API key for the read API; the key is printed once."""
    settings = load_settings(database_url)
    if plan not in settings.plans:
        sys.exit(f"error: unknown plan {plan!r} (known: {', '.join(sorted(settings.plans))})")

    async def work() -> str:
        async with open_engine(settings.database_url) as engine:
            manager = ApiKeyManager(engine, prefix=API_KEY_PREFIX)
            created = await manager.create(owner, name=name, scopes=[f"{PLAN_SCOPE}{plan}"])
            return created.key

    click.echo(run(work()))


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
    settings = load_settings(database_url)
    operator = f"operator:{actor}"
    changed = run(_in_session(settings.database_url, lambda s: change(s, subject, actor=operator)))
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
    settings = load_settings(database_url)
    for row in run(_in_session(settings.database_url, audit.list_editors)):
        click.echo(f"{row.subject}\t{row.granted_by}\t{row.granted_at.isoformat()}")


@main.group("edits")
def edits_group() -> None:
    """The record of catalog edits: list them, revert one."""


@edits_group.command("list")
@database_url_option
@click.option("--code", default=None, help="only this ingredient's edits")
def list_edits_command(database_url: str | None, code: str | None) -> None:
    """One JSON line per edit: id, code, actor, at, before, after, reverts."""
    settings = load_settings(database_url)
    for edit in run(_in_session(settings.database_url, lambda s: audit.list_edits(s, code))):
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
    settings = load_settings(database_url)
    runtime = build_webhooks(settings)
    try:
        edit = run(_in_session(settings.database_url, lambda s: audit.revert_edit(
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
    settings = load_settings(None)
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


if __name__ == "__main__":
    main()
