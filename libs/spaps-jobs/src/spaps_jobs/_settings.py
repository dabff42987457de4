"""Settings of a spaps Celery app, validated at construction."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._schedules import Schedule, parse_schedules

__all__ = ["JobsSettings"]

EMBEDDED_BROKER = "sqla+sqlite:///broker.db"
EMBEDDED_RESULTS = "db+sqlite:///results.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobsSettings:
    """How :func:`~spaps_jobs.create_celery_app` builds the Celery app.

    The defaults need no server: an embedded broker and result backend on SQLite files
    in the working directory. In production point ``broker_url`` at Redis or RabbitMQ.

    Args:
        name: Celery app name (``main``).
        broker_url: Broker URL (``redis://``, ``amqp://``, ``sqla+sqlite:///...``).
        result_backend: Result backend URL, or ``None`` for none.
        default_queue: Queue of tasks without a route.
        soft_time_limit: Seconds before ``SoftTimeLimitExceeded`` is raised in a task.
        time_limit: Seconds before a task's worker process is killed (> soft limit).
        visibility_timeout: Redis/SQS: seconds before an unacknowledged task is
            redelivered. Must exceed ``time_limit``, or long tasks run twice.
        key_prefix: Redis: prefix of every broker key (isolates apps sharing a Redis).
        publish_retries: Attempts to reach the broker when sending a task before the
            error reaches the caller.
        dead_letter_url: SQLAlchemy URL of the dead-letter store, ``None`` to disable.
        schedules: Beat entries: ``{name: {"task", "cron" | "every", "args", ...}}``.
        include: Modules the worker imports to register tasks.
        transport_options: Extra broker transport options (merged over the defaults),
            e.g. ``{"polling_interval": 0.1}`` for Redis. The embedded broker's SQLAlchemy
            transport hands its options to ``create_engine``, so give it none of these.
        extra: Further Celery settings, applied last (they override the defaults).

    Raises:
        ValueError: A value is out of range.
        ScheduleError: A schedule entry is invalid (e.g. a bad cron expression).
    """

    name: str = "spaps"
    broker_url: str = EMBEDDED_BROKER
    result_backend: str | None = EMBEDDED_RESULTS
    default_queue: str = "spaps"
    soft_time_limit: float = 300.0
    time_limit: float = 360.0
    visibility_timeout: float = 3600.0
    key_prefix: str | None = None
    publish_retries: int = 3
    dead_letter_url: str | None = "sqlite:///dead_letters.db"
    schedules: Mapping[str, Any] = field(default_factory=dict)
    include: Sequence[str] = ()
    transport_options: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("name", "broker_url", "default_queue"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
        if not 0 < self.soft_time_limit < self.time_limit:
            raise ValueError("need 0 < soft_time_limit < time_limit")
        if self.visibility_timeout <= self.time_limit:
            raise ValueError(
                "visibility_timeout must exceed time_limit, or the broker redelivers "
                "tasks that are still running"
            )
        if not isinstance(self.publish_retries, int) or self.publish_retries < 0:
            raise ValueError("publish_retries must be a non-negative integer")
        if isinstance(self.include, str):
            raise TypeError("include must be a sequence of module names, not a string")
        # Validate now: a bad cron expression must stop start-up, not the first tick.
        parse_schedules(self.schedules)

    @property
    def beat_schedule(self) -> dict[str, dict[str, Any]]:
        """The validated schedules in Celery's ``beat_schedule`` format."""
        entries: tuple[Schedule, ...] = parse_schedules(self.schedules)
        return {entry.name: entry.to_beat() for entry in entries}

    @classmethod
    def from_env(cls, prefix: str = "JOBS_", **overrides: Any) -> JobsSettings:
        """Build settings from ``<prefix>BROKER_URL``, ``<prefix>RESULT_BACKEND``, ...

        Only ``BROKER_URL``, ``RESULT_BACKEND``, ``DEFAULT_QUEUE``, ``KEY_PREFIX`` and
        ``DEAD_LETTER_URL`` are read; everything else comes from ``overrides``.
        """
        values: dict[str, Any] = {}
        for name in (
            "broker_url",
            "result_backend",
            "default_queue",
            "key_prefix",
            "dead_letter_url",
        ):
            raw = os.environ.get(prefix + name.upper())
            if raw is not None:
                values[name] = raw or None
        values.update(overrides)
        return cls(**values)
