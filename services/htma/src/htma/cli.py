"""The ``htma`` command: migrations, admin accounts, key rotation, servers, and the
operator commands (seed, backfill, erasure, scheduled jobs).

Every failure prints one line ``error: ...`` on stderr and exits non-zero:
1 for a failed operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from spaps_auth import TotpManager
from spaps_ops.db import CommandErrors, open_engine
from spaps_tenancy import bypass

from htma.cli_processes import PROCESS_COMMANDS
from htma.cli_retention import purge_command
from htma.cli_support import (
    database_url_option,
    quiet_option,
    require_schema,
    run,
    settings_for,
)
from htma.clinics.models import Clinic
from htma.clinics.roles import Role
from htma.db import create_sessionmaker
from htma.erasure.commands import (
    erase_tenant_command,
    erase_user_command,
    erasure_status_command,
)
from htma.errors import CommandError
from htma.identity.keystore import SigningKeyStore
from htma.identity.service import check_clinic_id, create_user
from htma.identity.stack import build_auth
from htma.messaging.cipher import generate_key
from htma.messaging.service import rotate_messages
from htma.migrate import MIGRATIONS
from htma.results.backfill import backfill_results, panels_of
from htma.runtime import build_runtime
from htma.seed import Seeded, seed


@click.group()
def main() -> None:
    """HTMA lab service."""


@main.group("migrate", invoke_without_command=True)
@database_url_option
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def migrate_command(ctx: click.Context, database_url: str | None, revision: str) -> None:
    """Upgrade the database schema (``htma migrate``), or show where it is
    (``htma migrate status``)."""
    ctx.obj = database_url
    if ctx.invoked_subcommand is not None:
        return
    run(MIGRATIONS.upgrade(settings_for(database_url).database_url, revision))
    click.echo(f"database at revision {revision}")


@migrate_command.command("status")
@database_url_option
@click.option("--check", is_flag=True, help="exit 1 when the schema is not at the head")
@click.pass_context
def migrate_status(ctx: click.Context, database_url: str | None, check: bool) -> None:
    """Show the database's revision, the scripts' head and the pending revisions
    (oldest first)."""
    settings = settings_for(database_url or ctx.obj)
    status = run(MIGRATIONS.status(settings.database_url))
    click.echo(f"current: {' '.join(status.current) or 'none (never migrated)'}")
    click.echo(f"head: {' '.join(status.heads)}")
    click.echo(f"pending: {' '.join(status.pending) or 'none'}")
    if status.unknown:
        click.echo(f"unknown to these scripts: {' '.join(status.unknown)} ({status.state})")
    if check and not status.up_to_date:
        raise SystemExit(f"error: the database schema is {status.state}: run `htma migrate`")


@main.command("downgrade")
@database_url_option
@click.option("--revision", default="base", show_default=True)
def downgrade_command(database_url: str | None, revision: str) -> None:
    """Downgrade the database schema (default: drop everything)."""
    run(MIGRATIONS.downgrade(settings_for(database_url).database_url, revision))
    click.echo(f"database at revision {revision}")


@main.command("create-admin")
@database_url_option
@click.option("--clinic", "clinic_id", required=True, help="clinic id (slug); created if new")
@click.option("--clinic-name", default=None, help="name of a new clinic")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Lab admin", show_default=True)
@click.password_option(envvar="HTMA_ADMIN_PASSWORD", help="or HTMA_ADMIN_PASSWORD")
def create_admin(  # noqa: PLR0917 -- click passes one argument per option
    database_url: str | None,
    clinic_id: str,
    clinic_name: str | None,
    email: str,
    display_name: str,
    password: str,
) -> None:
    """Create a lab admin (and the clinic when it does not exist)."""
    settings = settings_for(database_url)
    with CommandErrors(ValueError):
        check_clinic_id(clinic_id)

    async def work() -> str:
        await require_schema(settings.database_url)
        async with open_engine(settings.database_url) as engine:
            auth = build_auth(settings, engine)
            async with create_sessionmaker(engine)() as session:
                if await session.get(Clinic, clinic_id) is None:
                    session.add(Clinic(id=clinic_id, name=clinic_name or clinic_id))
                    await session.flush()
                user = await create_user(
                    session, auth, clinic_id=clinic_id, email=email, password=password,
                    display_name=display_name, role=Role.LAB_ADMIN,
                )  # fmt: skip
                await session.commit()
                return user.id

    user_id = run(work())
    click.echo(f"created lab admin {email} ({user_id}) in clinic {clinic_id}")


@main.command("rotate-keys")
@database_url_option
@click.option(
    "--keep",
    default=2,
    show_default=True,
    type=click.IntRange(0, 10),
    help="older token signing keys kept for verification",
)
@quiet_option
def rotate_keys(database_url: str | None, keep: int, quiet: bool) -> None:
    """Add a new token signing key, and re-seal messages under the primary message key.

    To rotate the message key, prepend a new key (``htma generate-message-key``) to
    HTMA_MESSAGE_KEYS, keep the old one listed, run this command, then drop the old key.
    """
    settings = settings_for(database_url)
    with CommandErrors(ValueError):
        new = SigningKeyStore(settings.signing_keys_path).rotate(keep=keep)
    click.echo(f"token signing key {new.kid} is now primary (restart htma to use it)")
    cipher = settings.message_cipher()

    async def work() -> int:
        async with open_engine(settings.database_url) as engine:
            sessions = create_sessionmaker(engine)
            with (
                bypass(reason="message key rotation", actor="htma rotate-keys"),
                click.progressbar(length=0, label="re-sealing messages", file=sys.stderr,
                                  hidden=quiet) as bar,
            ):  # fmt: skip
                async with sessions() as session:
                    return await rotate_messages(session, cipher, progress=bar.update)

    count = run(work())
    click.echo(f"re-sealed {count} messages under message key {cipher.primary_key_id}")


@main.command("rotate-totp-keys")
@database_url_option
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@quiet_option
def rotate_totp_keys(database_url: str | None, batch_size: int, quiet: bool) -> None:
    """Re-seal every TOTP secret under the primary TOTP key (and seal plaintext ones).

    To rotate, prepend a new key (``htma generate-message-key``) to HTMA_TOTP_KEYS, keep
    the old one listed, restart htma, run this command, then drop the old key.
    """
    settings = settings_for(database_url)

    async def work() -> int:
        async with open_engine(settings.database_url) as engine:
            totp = TotpManager(
                engine, issuer_name=settings.service_name, sealer=settings.totp_sealer()
            )
            pending = await totp.reseal_pending()
            with click.progressbar(
                length=pending, label="re-sealing TOTP secrets", file=sys.stderr, hidden=quiet
            ) as bar:
                return await totp.reseal(batch_size=batch_size, progress=bar.update)

    count = run(work())
    click.echo(f"re-sealed {count} TOTP secrets under key {settings.totp_sealer().primary_key_id}")


@main.command("seed")
@database_url_option
def seed_command(database_url: str | None) -> None:
    """Create the reference data htma needs (the token signing keys, an organisation per
    clinic for invitations); what exists is left as it is, so running it again changes
    nothing."""
    settings = settings_for(database_url)

    async def work() -> list[Seeded]:
        await require_schema(settings.database_url)
        async with open_engine(settings.database_url) as engine:
            return await seed(settings, engine)

    done = run(work())
    for item in done:
        click.echo(f"{'created' if item.created else 'found':8}{item.what}")
    created = sum(item.created for item in done)
    click.echo(f"seed: {created} created, {len(done) - created} found")


@main.group("backfill")
def backfill_command() -> None:
    """Recompute derived data of existing rows."""


@backfill_command.command("ratios")
@database_url_option
@click.option("--clinic", required=True, help="the clinic id")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
    help="only panels sampled on or after this date (YYYY-MM-DD)",
)  # fmt: skip
@quiet_option
def backfill_ratios(
    database_url: str | None, clinic: str, since: datetime | None, quiet: bool
) -> None:
    """Compute the ratios (the result) of the clinic's panels that have none, through
    the job's own code path (recommendations, result.ready webhook); results already
    computed are kept."""
    settings = settings_for(database_url)
    with CommandErrors(ValueError):
        check_clinic_id(clinic)

    async def work() -> tuple[int, int]:
        await require_schema(settings.database_url)
        async with open_engine(settings.database_url) as engine:
            sessions = create_sessionmaker(engine)
            async with sessions() as session:
                if await session.get(Clinic, clinic) is None:
                    raise CommandError(f"no clinic {clinic!r}")
            panels = await panels_of(sessions, clinic, since=since.date() if since else None)
            runtime = build_runtime(settings)
            try:
                with click.progressbar(length=len(panels), label="computing results",
                                       file=sys.stderr, hidden=quiet) as bar:  # fmt: skip
                    computed = await backfill_results(
                        runtime, sessions, clinic, panels, progress=bar.update
                    )
            finally:
                runtime.close()
            return computed, len(panels)

    computed, total = run(work())
    click.echo(f"computed {computed} results of {total} panels in clinic {clinic}"
               f" ({total - computed} had one)")  # fmt: skip


@main.command("generate-message-key")
@click.argument("key_id")
def generate_message_key(key_id: str) -> None:
    """Print a new message key ``<key_id>:<base64>`` for HTMA_MESSAGE_KEYS."""
    with CommandErrors(ValueError):
        click.echo(generate_key(key_id))


main.add_command(erase_tenant_command)
main.add_command(erase_user_command)
main.add_command(erasure_status_command)
main.add_command(purge_command)
for _command in PROCESS_COMMANDS:  # run-scheduled, worker, beat, serve
    main.add_command(_command)


if __name__ == "__main__":
    main()
