"""Celery tasks: fan-out of published messages, delivery attempts, the sweeper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ._webhooks import FAN_OUT_TOPIC, Webhooks

DELIVER_TASK = "spaps_webhooks.deliver"
SWEEP_TASK = "spaps_webhooks.sweep"


@dataclass(frozen=True, slots=True)
class WebhookTasks:
    """The Celery tasks :func:`register_tasks` defined."""

    fan_out: Any
    deliver: Any
    sweep: Any


def register_tasks(
    app: Any,
    webhooks: Webhooks,
    *,
    max_countdown: float = 60.0,
    sweep_interval: float = 5.0,
    sweep_limit: int = 500,
    queue: str | None = None,
) -> WebhookTasks:
    """Define the webhook tasks on a Celery app and schedule the sweeper.

    Short retries (``<= max_countdown`` seconds) are sent as Celery countdowns. Longer
    ones only live in the delivery table's ``next_attempt_at`` and are picked up by the
    sweeper, a beat task running every ``sweep_interval`` seconds: a task waiting hours
    in a broker would outlive a Redis visibility timeout and be redelivered early, the
    database row does not. The sweeper also re-enqueues attempts whose worker died.

    Args:
        app: The Celery app (from ``spaps_jobs`` settings or your own).
        webhooks: The configured :class:`Webhooks`.
        max_countdown: Longest retry delay handed to the broker as a countdown.
        sweep_interval: Seconds between sweeps (beat schedule).
        sweep_limit: Deliveries enqueued per sweep at most.
        queue: Queue of the delivery tasks (default: the app's default queue).
    """
    if max_countdown < 0 or sweep_interval <= 0 or sweep_limit < 1:
        raise ValueError("max_countdown >= 0, sweep_interval > 0 and sweep_limit >= 1 required")
    options: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}
    if queue is not None:
        options["queue"] = queue

    @app.task(name=FAN_OUT_TOPIC, **options)  # type: ignore[untyped-decorator] # celery is untyped
    def fan_out(record: dict[str, Any]) -> list[str]:
        return webhooks.fan_out(record)

    @app.task(name=DELIVER_TASK, **options)  # type: ignore[untyped-decorator] # celery is untyped
    def deliver(delivery_id: str) -> str:
        outcome = webhooks.deliver(delivery_id)
        retry_in = outcome.retry_in
        if outcome.status == "retrying" and retry_in is not None and retry_in <= max_countdown:
            deliver.apply_async((delivery_id,), countdown=retry_in)
            webhooks.deliverer.mark_enqueued(
                delivery_id, timedelta(seconds=retry_in) + webhooks.deliverer.lease
            )
        return outcome.status

    @app.task(name=SWEEP_TASK, **options)  # type: ignore[untyped-decorator] # celery is untyped
    def sweep() -> int:
        due = webhooks.deliverer.due(limit=sweep_limit)
        for delivery_id in due:
            deliver.delay(delivery_id)
        return len(due)

    webhooks.enqueue = deliver.delay
    schedule = dict(app.conf.beat_schedule or {})
    schedule[SWEEP_TASK] = {"task": SWEEP_TASK, "schedule": sweep_interval}
    app.conf.beat_schedule = schedule
    return WebhookTasks(fan_out=fan_out, deliver=deliver, sweep=sweep)
