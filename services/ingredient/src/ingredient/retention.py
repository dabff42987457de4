"""What ingredient keeps, and for how long: its retention targets, purged by the worker's
beat or ``ingredient purge``.

ingredient writes finished work to three places: the outbox (confirmed messages), the
webhook delivery log (deliveries with their attempts, then the messages they carried)
and the dead letters. Catalog edits are the catalog's history and are kept; the auth
tables hold API keys, which are revoked, not expired. ``INGREDIENT_RETENTION_KEEP_DAYS``
overrides a target's keep, ``INGREDIENT_RETENTION_CRON`` says when the worker's beat
purges them (docs/operations.md, "Data lifecycle").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from spaps_jobs import Retention, RetentionTarget
from spaps_ops.db import open_engine, sync_url

from ingredient.db import DEAD_LETTERS, OUTBOX, WEBHOOK_TABLES
from ingredient.settings import Settings


def retention_targets(settings: Settings) -> list[RetentionTarget]:
    """ingredient's targets, in the order a full purge runs them (deliveries first)."""
    targets = [
        OUTBOX.retention(),
        WEBHOOK_TABLES.delivery_retention(),
        WEBHOOK_TABLES.message_retention(),
    ]
    if settings.dead_letters_url() == sync_url(settings.database_url):
        # A dead-letter store of its own (INGREDIENT_DEAD_LETTER_URL) is not purged here.
        targets.append(DEAD_LETTERS.retention())
    return targets


@asynccontextmanager
async def open_retention(
    settings: Settings, *, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[Retention]:
    """The runner over ingredient's database and targets, its engine disposed of after."""
    async with open_engine(settings.database_url) as engine:
        yield settings.retention(engine, *retention_targets(settings), clock=clock)
