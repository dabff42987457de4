"""What htma keeps, and for how long: its retention targets, purged by beat or ``htma purge``.

Every table of finished work has a target (each library declares its own, spaps-jobs
runs them): the outbox's confirmed messages, the stored idempotent responses, the dead
letters, the webhook delivery log with its messages and receipts, ended sessions,
settled invitations, and the audit log, archived with a checkpoint so its hash chain
stays verifiable. ``HTMA_RETENTION_KEEP_DAYS`` overrides a target's keep,
``HTMA_RETENTION_CRON`` says when beat purges them all (docs/operations.md, "Data
lifecycle").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from spaps_auth import AuditRetention, InvitationRetention, SessionRetention
from spaps_jobs import Retention, RetentionTarget
from spaps_ops.db import open_engine, sync_url

from htma.db import DEAD_LETTERS, DEDUPE, OUTBOX, WEBHOOK_TABLES
from htma.settings import Settings


def retention_targets(settings: Settings) -> list[RetentionTarget]:
    """htma's targets, in the order a full purge runs them (deliveries before messages)."""
    targets = [
        OUTBOX.retention(),
        DEDUPE.retention(),  # every Idempotency-Key response (htma.layers)
        WEBHOOK_TABLES.delivery_retention(),
        WEBHOOK_TABLES.message_retention(),
        WEBHOOK_TABLES.receipt_retention(),
        SessionRetention(),
        InvitationRetention(),
        AuditRetention(),
    ]
    if settings.dead_letters_url() == sync_url(settings.database_url):
        # A dead-letter store of its own (HTMA_DEAD_LETTER_URL) is not purged from here.
        targets.append(DEAD_LETTERS.retention())
    return targets


@asynccontextmanager
async def open_retention(
    settings: Settings, *, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[Retention]:
    """The runner over htma's database and targets, its engine disposed of afterwards."""
    async with open_engine(settings.database_url) as engine:
        yield settings.retention(engine, *retention_targets(settings), clock=clock)
