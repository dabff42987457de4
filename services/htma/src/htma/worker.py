"""The Celery worker: computes results, erases, relays the outbox, delivers webhooks, purges.

Built from the settings by :func:`create_worker` (no app object at import time);
``htma worker`` runs it. Everything the API enqueues goes through the transactional
outbox: the relay thread publishes committed rows to the broker, and publishes again
those their consumer has not confirmed after ``outbox_redeliver_after`` (with backoff,
up to ``outbox_max_publishes``, then the dead-letter store). Both consumers confirm:
``compute_result`` after storing the result, ``erase`` once the erasure is done, the
webhook fan-out once it has run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from celery.signals import task_postrun
from spaps_auth import AuditLog
from spaps_jobs import (
    CeleryDispatcher,
    JobsCelery,
    JobsSettings,
    Relay,
    create_celery_app,
    install_retention,
    message_id_of,
)
from spaps_ops.db import Database
from spaps_webhooks import FAN_OUT_TOPIC, register_tasks
from sqlalchemy.exc import OperationalError

from htma.db import OUTBOX, create_sessionmaker
from htma.erasure.service import ERASURE_REQUESTED, run_erasure
from htma.retention import open_retention, retention_targets
from htma.runtime import PANEL_SUBMITTED, Runtime, build_runtime, process_panel
from htma.settings import Settings

Clock = Callable[[], datetime]
"""The relay's current time (aware UTC); tests inject one."""


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


def _database(settings: Settings) -> Database:
    return Database(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.database_statement_timeout,
        pool_timeout=settings.database_pool_timeout,
    )


async def _compute(
    settings: Settings, runtime: Runtime, payload: dict[str, Any], message_id: str
) -> bool:
    database = _database(settings)
    try:
        return await process_panel(
            runtime,
            create_sessionmaker(database.engine),
            panel_id=str(payload["panel_id"]),
            clinic=str(payload["clinic"]),
            request_id=payload.get("request_id"),
            message_id=message_id,
        )
    finally:
        await database.aclose()


async def _erase(settings: Settings, payload: dict[str, Any], message_id: str) -> str | None:
    database = _database(settings)
    try:
        return await run_erasure(
            database.engine,
            str(payload["erasure_id"]),
            audit=AuditLog(database.engine),
            message_id=message_id,
        )
    finally:
        await database.aclose()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Unshared:
    """The app as ``register_tasks`` sees it: its tasks are not shared (see above)."""

    def __init__(self, app: JobsCelery) -> None:
        self.app = app
        self.conf = app.conf

    def task(self, *args: Any, **options: Any) -> Any:
        return self.app.task(*args, shared=False, **options)


def create_worker(settings: Settings, *, clock: Clock = _utcnow, **jobs_options: Any) -> Worker:
    """Build the worker for ``settings``.

    Args:
        settings: the service settings (broker, database, ingredient URL, redelivery...).
        clock: the relay's current time (tests move it past the redelivery window).
        jobs_options: extra :class:`spaps_jobs.JobsSettings` fields.
    """
    runtime = build_runtime(settings)
    jobs_options.setdefault("dead_letter_url", settings.dead_letters_url())
    # Beat purges every retention target at HTMA_RETENTION_CRON (htma.retention).
    targets = [target.name for target in retention_targets(settings)]
    jobs_options.setdefault("schedules", settings.retention_schedules(targets))
    celery = create_celery_app(
        JobsSettings(
            name="htma",
            broker_url=settings.broker_url,
            result_backend=None,
            default_queue="htma",
            **jobs_options,
        )
    )

    # shared=False: Celery adds a shared task to every app created later in the process,
    # so a second worker (tests) would run the first one's task, with its runtime.
    @celery.job(
        name=PANEL_SUBMITTED, retry_on=(OperationalError,), max_retries=5, bind=True, shared=False
    )  # type: ignore[untyped-decorator] # celery is untyped
    def compute_result(task: Any, payload: dict[str, Any]) -> bool:
        """Compute a submitted panel's result (idempotent: redelivery is harmless)."""
        message_id = message_id_of(task.request)
        return asyncio.run(_compute(settings, runtime, payload, message_id))

    @celery.job(
        name=ERASURE_REQUESTED,
        retry_on=(OperationalError,),
        max_retries=5,
        bind=True,
        shared=False,
    )  # type: ignore[untyped-decorator] # celery is untyped
    def erase(task: Any, payload: dict[str, Any]) -> str | None:
        """Run (or resume) a requested erasure (idempotent: redelivery is harmless)."""
        return asyncio.run(_erase(settings, payload, message_id_of(task.request)))

    register_tasks(_Unshared(celery), runtime.webhooks)
    install_retention(celery, lambda: open_retention(settings))
    confirm = OUTBOX.confirmer(runtime.sync_engine)

    def fanned_out(*, task: Any = None, args: Any = (), state: str | None = None, **_: Any) -> None:
        # The fan-out (spaps-webhooks) claims its message row with its deliveries in one
        # transaction and is a no-op when run again: confirm once it has returned. Matched
        # by name and app (a task registered before the app is finalized is a proxy).
        ours = task is not None and task.name == FAN_OUT_TOPIC and task.app is celery
        if ours and state == "SUCCESS" and args:
            confirm(str(args[0]["id"]))

    task_postrun.connect(fanned_out, weak=False)
    relay = Relay(
        OUTBOX,
        runtime.sync_engine,
        CeleryDispatcher(celery),
        poll_interval=0.3,
        redelivery=settings.redelivery(),
        dead_letters=celery.dead_letters,
        clock=clock,
    )
    return Worker(celery, relay, runtime)
