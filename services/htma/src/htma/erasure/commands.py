"""``htma erase-tenant``, ``htma erase-user`` and ``htma erasure-status``.

The two erase commands queue the same job as the API (the worker runs it), or with
``--now`` run it in this process with a progress bar; either way a request already
pending for the subject is the one used.
"""

from __future__ import annotations

import sys

import click
from spaps_auth import AuditLog
from spaps_ops.db import open_engine
from sqlalchemy import select

from htma.accounts.models import User
from htma.cli_support import database_url_option, quiet_option, require_schema, run, settings_for
from htma.db import create_sessionmaker
from htma.erasure.models import ErasureRequest
from htma.erasure.service import erasure_of, request_erasure, run_erasure, steps_of
from htma.errors import NotFoundError

reason_option = click.option(
    "--reason", required=True, help="why (e.g. the data subject's request reference); audited"
)
now_option = click.option(
    "--now", is_flag=True, help="erase in this process, with a progress bar (default: queue it)"
)
by_option = click.option(
    "--requested-by", default="cli", show_default=True, help="who asks, for the audit log"
)


def _summary(erasure: ErasureRequest) -> str:
    counts = " ".join(f"{table}={rows}" for table, rows in sorted(erasure.counts.items()) if rows)
    return counts or "nothing"


async def _erase(  # noqa: PLR0917 -- the options of the two commands, passed on
    database_url: str,
    kind: str,
    subject: str,
    reason: str,
    requested_by: str,
    now: bool,
    quiet: bool,
) -> tuple[ErasureRequest, bool]:
    await require_schema(database_url)
    async with open_engine(database_url) as engine:
        audit = AuditLog(engine)
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            if kind == "user" and "@" in subject:
                found = await session.scalar(select(User.id).where(User.email == subject.lower()))
                if found is None:
                    raise NotFoundError(f"no user {subject!r}")
                subject = found
            erasure, created = await request_erasure(
                session, kind=kind, subject=subject, requested_by=requested_by, reason=reason,
                audit=audit, enqueue=not now,
            )  # fmt: skip
        if now:
            with click.progressbar(
                length=len(steps_of(erasure)), label=f"erasing {kind} {subject}", file=sys.stderr,
                hidden=quiet, item_show_func=lambda name: name,
            ) as bar:  # fmt: skip
                await run_erasure(
                    engine, erasure.id, audit=audit,
                    progress=lambda name, _done, _total: bar.update(1, name),
                )  # fmt: skip
            async with sessions() as session:
                erasure = await erasure_of(session, erasure.id)
        return erasure, created


def _report(erasure: ErasureRequest, created: bool, now: bool) -> None:
    what = f"{'clinic' if erasure.kind == 'tenant' else 'user'} {erasure.subject}"
    if now:
        click.echo(f"erased {what} (erasure {erasure.id}): {_summary(erasure)}")
    elif created:
        click.echo(f"queued erasure {erasure.id} of {what} (htma erasure-status {erasure.id})")
    else:
        click.echo(f"erasure {erasure.id} of {what} is already {erasure.status}")


@click.command("erase-tenant")
@database_url_option
@click.argument("clinic")
@reason_option
@by_option
@now_option
@quiet_option
def erase_tenant_command(  # noqa: PLR0917 -- click passes one argument per option
    database_url: str | None, clinic: str, reason: str, requested_by: str, now: bool, quiet: bool
) -> None:
    """Erase the clinic CLINIC and everything in it (its users, panels, results,
    messages, webhooks): queued for the worker, or done here with --now."""
    settings = settings_for(database_url)
    erasure, created = run(
        _erase(settings.database_url, "tenant", clinic, reason, requested_by, now, quiet)
    )
    _report(erasure, created, now)


@click.command("erase-user")
@database_url_option
@click.argument("user")
@reason_option
@by_option
@now_option
@quiet_option
def erase_user_command(  # noqa: PLR0917 -- click passes one argument per option
    database_url: str | None, user: str, reason: str, requested_by: str, now: bool, quiet: bool
) -> None:
    """Erase the personal data of USER (a user id or e-mail address): sessions,
    credentials, messages, a patient's panels and results; the account stays as an
    anonymised tombstone. Queued for the worker, or done here with --now."""
    settings = settings_for(database_url)
    erasure, created = run(
        _erase(settings.database_url, "user", user, reason, requested_by, now, quiet)
    )
    _report(erasure, created, now)


@click.command("erasure-status")
@database_url_option
@click.argument("erasure_id")
def erasure_status_command(database_url: str | None, erasure_id: str) -> None:
    """Show the status of the erasure request ERASURE_ID and the rows it erased."""
    settings = settings_for(database_url)

    async def read() -> ErasureRequest:
        async with (
            open_engine(settings.database_url) as engine,
            create_sessionmaker(engine)() as session,
        ):
            return await erasure_of(session, erasure_id)

    erasure = run(read())
    click.echo(f"erasure {erasure.id}: {erasure.status}")
    click.echo(f"subject: {erasure.kind} {erasure.subject} (clinic {erasure.clinic_id})")
    click.echo(f"requested by {erasure.requested_by} at {erasure.created_at.isoformat()}")
    for label, moment in (("started", erasure.started_at), ("finished", erasure.finished_at)):
        if moment is not None:
            click.echo(f"{label} at {moment.isoformat()}")
    click.echo(f"erased: {_summary(erasure)}")
    if erasure.error:
        click.echo(f"last error: {erasure.error}")
