"""The data lifecycle commands: ``purge`` (retention, now) and ``worker`` (the Celery
worker whose embedded beat purges on the retention schedule); :mod:`ingredient.cli` adds
them to the ``ingredient`` group."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from spaps_jobs import PurgeReport, SpapsJobsError, purge_targets
from spaps_ops.db import CommandErrors

from ingredient.cli_common import (
    database_url_option,
    load_settings,
    progress_bar,
    run,
    schema_ready,
)
from ingredient.jobs import create_jobs
from ingredient.retention import open_retention


@click.command("purge")
@click.argument("targets", nargs=-1)
@click.option("--dry-run", is_flag=True, help="count what would go; write nothing")
@database_url_option
@click.option("--quiet", is_flag=True, help="no progress bar")
def purge_command(
    targets: tuple[str, ...], dry_run: bool, database_url: str | None, quiet: bool
) -> None:
    """Purge the finished rows of TARGETS (default: every target: jobs.outbox,
    webhooks.deliveries, webhooks.messages, jobs.dead_letters) past their retention
    (INGREDIENT_RETENTION_KEEP_DAYS, else each target's default), in batches. One line per
    target."""
    settings = load_settings(database_url)

    @contextmanager
    def bar(name: str, rows: int) -> Iterator[Callable[[int], None]]:
        with progress_bar(rows, name, quiet=quiet or not rows) as shown:
            yield shown.update

    async def work() -> list[PurgeReport]:
        await schema_ready(settings.database_url)
        async with open_retention(settings) as retention:
            return await purge_targets(retention, targets, dry_run=dry_run, progress=bar)

    with CommandErrors(SpapsJobsError, ValueError):
        reports = run(work())
    for report in reports:
        click.echo(report.summary())


@click.command("worker")
@click.option("--loglevel", default="INFO", show_default=True)
def worker_command(loglevel: str) -> None:
    """Run the Celery worker with beat embedded: the retention purges at
    INGREDIENT_RETENTION_CRON, on INGREDIENT_BROKER_URL (the API keeps delivering
    webhooks itself). Run exactly one per deployment."""
    settings = load_settings(None)
    with CommandErrors(ValueError):
        jobs = create_jobs(settings, with_delivery=False)
    settings.beat_schedule_path.parent.mkdir(parents=True, exist_ok=True)
    options = [
        f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
        "--queues=ingredient", "--beat", f"--schedule={settings.beat_schedule_path}",
    ]  # fmt: skip
    try:
        jobs.celery.worker_main(["worker", "--pool=solo", *options])
    finally:
        jobs.close()


COMMANDS = (purge_command, worker_command)
