"""ingredient's periodic jobs, named as a Celery beat schedule, and its worker's app.

The webhook delivery pass runs in the API's own thread (see :mod:`ingredient.events`)
every ``interval`` seconds; this schedule names it so that an operator can run it now, in
the command's own process (``ingredient run-scheduled webhooks.deliver``, through
spaps-jobs' ``run_scheduled``): to flush the outbox while the API is down, or to retry due
deliveries at once after a subscriber came back.

The retention purges (:mod:`ingredient.retention`) are scheduled here too, one entry per
target at ``retention_cron``: ``ingredient worker`` runs them (a Celery worker with beat
embedded, on ``broker_url``), and ``run-scheduled retention.<target>`` runs one now. The
worker's beat leaves the delivery pass to the API (``with_delivery=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from spaps_jobs import JobsCelery, JobsSettings, create_celery_app, install_retention

from ingredient.events import WebhookRuntime, build_webhooks
from ingredient.retention import open_retention, retention_targets
from ingredient.settings import Settings

#: One pass of the delivery loop: relay the outbox, attempt new and due deliveries.
DELIVER_WEBHOOKS = "webhooks.deliver"
DELIVER_WEBHOOKS_TASK = "ingredient.deliver_webhooks"

Clock = Callable[[], datetime]
"""The relay's current time (aware UTC)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Jobs:
    """The Celery app holding the schedule and its tasks, and what the tasks run on."""

    celery: JobsCelery
    runtime: WebhookRuntime

    def close(self) -> None:
        """Dispose of the runtime's engines."""
        self.runtime.close()


def create_jobs(settings: Settings, *, clock: Clock = _utcnow, with_delivery: bool = True) -> Jobs:
    """The scheduled jobs for ``settings`` (tasks registered, nothing started).

    Args:
        settings: the service settings (database, webhooks, outbox redelivery, retention).
        clock: the relay's current time.
        with_delivery: schedule the delivery pass too (the worker's beat does not: the
            API runs it).
    """
    runtime = build_webhooks(settings, clock=clock)
    targets = [target.name for target in retention_targets(settings)]
    schedules = settings.retention_schedules(targets)
    if with_delivery:
        schedules[DELIVER_WEBHOOKS] = {"task": DELIVER_WEBHOOKS_TASK, "every": runtime.interval}
    celery = create_celery_app(
        JobsSettings(
            name="ingredient",
            broker_url=settings.broker_url,  # in-process runs never touch it
            result_backend=None,
            default_queue="ingredient",
            # The delivery pass keeps no retries of its own (the next pass is the retry)
            # and a purge is run again by the next tick: nothing for a dead-letter store.
            dead_letter_url=None,
            schedules=schedules,
        )
    )
    install_retention(celery, lambda: open_retention(settings))

    # shared=False: a shared task would join every Celery app created later in the process.
    @celery.task(name=DELIVER_WEBHOOKS_TASK, shared=False)  # type: ignore[untyped-decorator] # celery is untyped
    def deliver_webhooks() -> int:
        """One delivery pass; returns the delivery attempts made."""
        return runtime.run_once()

    return Jobs(celery, runtime)
