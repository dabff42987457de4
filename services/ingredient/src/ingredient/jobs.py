"""ingredient's periodic jobs, named as a Celery beat schedule.

ingredient runs no Celery worker nor beat (see :mod:`ingredient.events`): the app's
delivery thread makes one webhook delivery pass every ``interval`` seconds. This
schedule names that pass so that an operator can run it now, in the command's own
process (``ingredient run-scheduled webhooks.deliver``, through spaps-jobs'
``run_scheduled``): to flush the outbox while the API is down, or to retry due
deliveries at once after a subscriber came back. Nothing here talks to a broker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from spaps_jobs import JobsCelery, JobsSettings, create_celery_app

from ingredient.events import WebhookRuntime, build_webhooks
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


def create_jobs(settings: Settings, *, clock: Clock = _utcnow) -> Jobs:
    """The scheduled jobs for ``settings`` (tasks registered, nothing started).

    Args:
        settings: the service settings (database, webhooks, outbox redelivery).
        clock: the relay's current time.
    """
    runtime = build_webhooks(settings, clock=clock)
    celery = create_celery_app(
        JobsSettings(
            name="ingredient",
            broker_url="memory://",  # never used: the tasks only run in-process
            result_backend=None,
            default_queue="ingredient",
            # The delivery pass keeps no retries of its own (the next pass is the retry):
            # nothing for a dead-letter store to hold.
            dead_letter_url=None,
            schedules={
                DELIVER_WEBHOOKS: {"task": DELIVER_WEBHOOKS_TASK, "every": runtime.interval}
            },
        )
    )

    # shared=False: a shared task would join every Celery app created later in the process.
    @celery.task(name=DELIVER_WEBHOOKS_TASK, shared=False)  # type: ignore[untyped-decorator] # celery is untyped
    def deliver_webhooks() -> int:
        """One delivery pass; returns the delivery attempts made."""
        return runtime.run_once()

    return Jobs(celery, runtime)
