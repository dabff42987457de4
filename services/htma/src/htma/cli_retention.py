"""``htma purge``: finished rows past their retention, now (beat does it on a schedule)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from spaps_jobs import PurgeReport, SpapsJobsError, purge_targets
from spaps_ops.db import CommandErrors

from htma.cli_support import database_url_option, quiet_option, require_schema, run, settings_for
from htma.retention import open_retention


@click.command("purge")
@click.argument("targets", nargs=-1)
@click.option("--dry-run", is_flag=True, help="count what would go; write nothing")
@database_url_option
@quiet_option
def purge_command(
    targets: tuple[str, ...], dry_run: bool, database_url: str | None, quiet: bool
) -> None:
    """Purge the finished rows of TARGETS (default: every target) that are past their
    retention (HTMA_RETENTION_KEEP_DAYS, else each target's default), in batches; the
    audit log is archived with a checkpoint, never deleted. One line per target."""
    settings = settings_for(database_url)

    @contextmanager
    def bar(name: str, rows: int) -> Iterator[Callable[[int], None]]:
        hidden = quiet or not rows
        with click.progressbar(length=rows, label=name, file=sys.stderr, hidden=hidden) as shown:
            yield shown.update

    async def work() -> list[PurgeReport]:
        await require_schema(settings.database_url)
        async with open_retention(settings) as retention:
            return await purge_targets(retention, targets, dry_run=dry_run, progress=bar)

    with CommandErrors(SpapsJobsError):
        reports = run(work())
    for report in reports:
        click.echo(report.summary())
