"""``htma purge``: finished rows past their retention, now (beat does it on a schedule)."""

from __future__ import annotations

import sys

import click
from spaps_jobs import PurgeReport, SpapsJobsError
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

    async def work() -> list[PurgeReport]:
        await require_schema(settings.database_url)
        reports = []
        async with open_retention(settings) as retention:
            for name in targets or retention.names:
                expired = await retention.purge(name, dry_run=True)
                if dry_run:
                    reports.append(expired)
                    continue
                with click.progressbar(
                    length=expired.rows, label=f"purging {name}", file=sys.stderr,
                    hidden=quiet or not expired.rows,
                ) as bar:  # fmt: skip
                    reports.append(await retention.purge(name, progress=bar.update))
        return reports

    with CommandErrors(SpapsJobsError):
        reports = run(work())
    for report in reports:
        click.echo(report.summary())
