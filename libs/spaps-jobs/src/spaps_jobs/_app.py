"""``create_celery_app``: a Celery app with safe production defaults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from ._dead_letters import DeadLetterStore
from ._metrics import TaskMetrics
from ._settings import JobsSettings
from ._signals import connect_signals
from ._tasks import make_job

__all__ = ["JobsCelery", "JobsRuntime", "create_celery_app"]


class JobsRuntime:
    """What the signal handlers and the task base find through ``app.spaps_runtime``.

    The dead-letter engine is created on first use, so a prefork worker opens it in the
    child process, never before the fork.
    """

    def __init__(self, settings: JobsSettings, metrics: TaskMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._dead_letters: DeadLetterStore | None = None
        self._lock = threading.Lock()

    @property
    def dead_letters(self) -> DeadLetterStore | None:
        """The dead-letter store, or ``None`` when ``dead_letter_url`` is unset."""
        url = self.settings.dead_letter_url
        if url is None:
            return None
        with self._lock:
            if self._dead_letters is None:
                self._dead_letters = DeadLetterStore(create_engine(url))
            return self._dead_letters


class JobsCelery(Celery):  # type: ignore[misc]  # celery ships no type hints
    """The Celery app returned by :func:`create_celery_app`, plus :meth:`job`."""

    spaps_runtime: JobsRuntime

    @property
    def settings(self) -> JobsSettings:
        """The settings this app was built from."""
        return self.spaps_runtime.settings

    @property
    def dead_letters(self) -> DeadLetterStore | None:
        """The dead-letter store (``None`` when disabled)."""
        return self.spaps_runtime.dead_letters

    def job(
        self,
        func: Callable[..., Any] | None = None,
        *,
        retry_on: tuple[type[BaseException], ...] = (),
        max_retries: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 600.0,
        jitter: bool = True,
        bind: bool = False,
        **options: Any,
    ) -> Any:
        """Register a task that retries declared exceptions, then dead-letters.

        Usable as ``@app.job`` or ``@app.job(retry_on=(TimeoutError,), ...)``.

        Args:
            func: The task body.
            retry_on: Exceptions that trigger a retry; anything else fails at once.
            max_retries: Retries after the first attempt; then the task is dead-lettered.
            backoff: Delay before the first retry, doubled each retry.
            backoff_max: Upper bound of the delay.
            jitter: Draw the delay uniformly in ``[0, delay]`` ("full jitter").
            bind: Pass the task instance as first argument.
            **options: Further ``app.task`` options (``name``, ``queue``, time limits...).
        """

        def decorate(body: Callable[..., Any]) -> Any:
            return make_job(
                self,
                body,
                retry_on=retry_on,
                max_retries=max_retries,
                backoff=backoff,
                backoff_max=backoff_max,
                jitter=jitter,
                bind=bind,
                options=options,
            )

        return decorate(func) if func is not None else decorate


def celery_config(settings: JobsSettings) -> dict[str, Any]:
    """The Celery configuration :func:`create_celery_app` applies."""
    transport: dict[str, Any] = {}
    if not settings.broker_url.startswith("sqla+"):
        # (kombu's SQLAlchemy transport hands every option to ``create_engine``.)
        # Redis/SQS redeliver an unacknowledged task after this; it must outlive the
        # longest task (checked in JobsSettings) or a running task is started twice.
        transport["visibility_timeout"] = settings.visibility_timeout
        if settings.key_prefix:
            transport["global_keyprefix"] = settings.key_prefix
    if settings.broker_url.startswith(("redis", "rediss", "sentinel")):
        # kombu sweeps for expired unacked tasks every interval x throttle seconds
        # (default 10 x 10): sweep every few seconds so a dead worker's task comes back
        # soon after its visibility timeout, not minutes later.
        transport["unacked_restore_interval"] = max(
            1, int(min(10, settings.visibility_timeout / 3))
        )
        transport["unacked_restore_throttle"] = 1
    if settings.broker_url.startswith(("amqp", "pyamqp")):
        # Publisher confirms: a publish returns once RabbitMQ holds the message, so a
        # relay never marks sent what the broker did not take.
        transport["confirm_publish"] = True
    transport.update(settings.transport_options)
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": settings.default_queue,
        # Ack after the task ran, and give the task back when its worker dies:
        # a SIGKILLed worker's task is delivered again instead of being lost.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_soft_time_limit": settings.soft_time_limit,
        "task_time_limit": settings.time_limit,
        "task_track_started": True,
        "task_publish_retry": settings.publish_retries > 0,
        "task_publish_retry_policy": {
            "max_retries": settings.publish_retries,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        "result_expires": 24 * 3600,
        "enable_utc": True,
        "beat_schedule": settings.beat_schedule,
    }
    if settings.key_prefix and (settings.result_backend or "").startswith("redis"):
        config["result_backend_transport_options"] = {"global_keyprefix": settings.key_prefix}
    config.update(settings.extra)
    return config


def create_celery_app(
    settings: JobsSettings | None = None, *, registry: CollectorRegistry | None = None
) -> JobsCelery:
    """Build a Celery app with safe production defaults.

    Late acks, redelivery when a worker dies, prefetch 1, JSON only, soft/hard time
    limits, broker connection retry at start-up, bounded publish retries, the request id
    of the enqueuing HTTP request in the task headers and task logs, Prometheus task
    metrics, a dead-letter store, and the beat schedules of ``settings``.

    Args:
        settings: The settings (default: ``JobsSettings()``, the embedded SQLite broker).
        registry: Prometheus registry of the task metrics (default: the global one).
    """
    settings = settings if settings is not None else JobsSettings()
    if not isinstance(settings, JobsSettings):
        raise TypeError("settings must be a JobsSettings")
    app = JobsCelery(settings.name, include=list(settings.include), set_as_current=False)
    app.config_from_object(celery_config(settings))
    metrics = TaskMetrics(registry=registry) if registry is not None else TaskMetrics.default()
    app.spaps_runtime = JobsRuntime(settings, metrics)
    connect_signals()
    return app
