"""The Celery worker: computes results, relays the outbox, delivers webhooks.

Built from the settings by :func:`create_worker` (no app object at import time);
``htma worker`` runs it. Everything the API enqueues goes through the transactional
outbox: the relay thread publishes committed rows to the broker.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from spaps_jobs import CeleryDispatcher, JobsCelery, JobsSettings, Relay, create_celery_app
from spaps_ops.db import Database
from spaps_webhooks import register_tasks
from sqlalchemy.exc import OperationalError

from htma.db import OUTBOX, create_sessionmaker
from htma.runtime import PANEL_SUBMITTED, Runtime, build_runtime, process_panel
from htma.settings import Settings


@dataclass
class Worker:
    """The Celery app, the outbox relay and the shared runtime."""

    celery: JobsCelery
    relay: Relay
    runtime: Runtime

    def start_relay(self) -> tuple[threading.Thread, threading.Event]:
        """Run the relay in a daemon thread until the returned event is set."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.relay.run_forever, kwargs={"stop": stop}, name="htma-relay", daemon=True
        )
        thread.start()
        return thread, stop


async def _compute(settings: Settings, runtime: Runtime, payload: dict[str, Any]) -> bool:
    database = Database(settings.database_url)
    try:
        return await process_panel(
            runtime,
            create_sessionmaker(database.engine),
            panel_id=str(payload["panel_id"]),
            clinic=str(payload["clinic"]),
            request_id=payload.get("request_id"),
        )
    finally:
        await database.aclose()


def create_worker(settings: Settings, **jobs_options: Any) -> Worker:
    """Build the worker for ``settings``.

    Args:
        settings: the service settings (broker, database, ingredient URL...).
        jobs_options: extra :class:`spaps_jobs.JobsSettings` fields.
    """
    runtime = build_runtime(settings)
    jobs_options.setdefault("dead_letter_url", settings.dead_letter_url)
    celery = create_celery_app(
        JobsSettings(
            name="htma",
            broker_url=settings.broker_url,
            result_backend=None,
            default_queue="htma",
            **jobs_options,
        )
    )

    @celery.job(name=PANEL_SUBMITTED, retry_on=(OperationalError,), max_retries=5)  # type: ignore[untyped-decorator] # celery is untyped
    def compute_result(payload: dict[str, Any]) -> bool:
        """Compute a submitted panel's result (idempotent: redelivery is harmless)."""
        return asyncio.run(_compute(settings, runtime, payload))

    register_tasks(celery, runtime.webhooks)
    relay = Relay(OUTBOX, runtime.sync_engine, CeleryDispatcher(celery), poll_interval=0.3)
    return Worker(celery, relay, runtime)
