"""Prometheus metrics of task execution."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

__all__ = ["InboxMetrics", "RelayMetrics", "TaskMetrics"]

_DEFAULT: TaskMetrics | None = None


class TaskMetrics:
    """Counters and a duration histogram per task name.

    ``spaps_jobs_tasks_total{task, state}`` counts ``started``, ``succeeded``,
    ``failed`` and ``retried``; ``spaps_jobs_task_duration_seconds{task, state}``
    observes run time. In a prefork worker set ``PROMETHEUS_MULTIPROC_DIR`` so the
    children's samples are aggregated (prometheus-client multiprocess mode).

    Args:
        registry: Where to register the metrics (default: the global registry, once).
        namespace: Metric name prefix.
    """

    def __init__(
        self, *, registry: CollectorRegistry | None = None, namespace: str = "spaps_jobs"
    ) -> None:
        self.registry = registry if registry is not None else REGISTRY
        self.tasks = Counter(
            f"{namespace}_tasks",
            "Task executions by outcome",
            ["task", "state"],
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{namespace}_task_duration_seconds",
            "Task run time in seconds",
            ["task", "state"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )

    @classmethod
    def default(cls) -> TaskMetrics:
        """The process-wide instance on the global registry (created on first use)."""
        global _DEFAULT  # noqa: PLW0603 -- one set of collectors per global registry
        if _DEFAULT is None:
            _DEFAULT = cls()
        return _DEFAULT


_DEFAULT_RELAY: RelayMetrics | None = None


class RelayMetrics:
    """Outbox relay metrics.

    ``spaps_jobs_outbox_published_total`` (messages, re-sends included),
    ``spaps_jobs_outbox_redelivered_total`` (re-sends of unconfirmed messages),
    ``spaps_jobs_outbox_dead_lettered_total`` (never confirmed, given up),
    ``spaps_jobs_outbox_relay_failures_total`` (failed passes) and
    ``spaps_jobs_outbox_lag_seconds`` (from ``Outbox.add`` to the first publish).

    Args:
        registry: Where to register the metrics (default: the global registry, once).
        namespace: Metric name prefix.
    """

    def __init__(
        self, *, registry: CollectorRegistry | None = None, namespace: str = "spaps_jobs"
    ) -> None:
        self.registry = registry if registry is not None else REGISTRY
        self.published = Counter(
            f"{namespace}_outbox_published", "Outbox messages published", registry=self.registry
        )
        self.failures = Counter(
            f"{namespace}_outbox_relay_failures", "Failed relay passes", registry=self.registry
        )
        self.redelivered = Counter(
            f"{namespace}_outbox_redelivered",
            "Unconfirmed outbox messages published again",
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            f"{namespace}_outbox_dead_lettered",
            "Outbox messages never confirmed, moved to the dead-letter store",
            registry=self.registry,
        )
        self.lag = Histogram(
            f"{namespace}_outbox_lag_seconds",
            "Seconds from Outbox.add to publication",
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
        )

    @classmethod
    def default(cls) -> RelayMetrics:
        """The process-wide instance on the global registry (created on first use)."""
        global _DEFAULT_RELAY  # noqa: PLW0603 -- one set of collectors per global registry
        if _DEFAULT_RELAY is None:
            _DEFAULT_RELAY = cls()
        return _DEFAULT_RELAY


_DEFAULT_INBOX: InboxMetrics | None = None


class InboxMetrics:
    """Inbox outcomes: ``spaps_jobs_inbox_messages_total{consumer, outcome}``.

    ``outcome`` is ``processed`` (first delivery, the effect ran) or ``duplicate`` (a
    redelivery or re-send the inbox absorbed).

    Args:
        registry: Where to register the metrics (default: the global registry, once).
        namespace: Metric name prefix.

    .. versionadded:: 0.3.0
    """

    def __init__(
        self, *, registry: CollectorRegistry | None = None, namespace: str = "spaps_jobs"
    ) -> None:
        self.registry = registry if registry is not None else REGISTRY
        self.messages = Counter(
            f"{namespace}_inbox_messages",
            "Messages seen by an inbox, by outcome",
            ["consumer", "outcome"],
            registry=self.registry,
        )

    @classmethod
    def default(cls) -> InboxMetrics:
        """The process-wide instance on the global registry (created on first use)."""
        global _DEFAULT_INBOX  # noqa: PLW0603 -- one set of collectors per global registry
        if _DEFAULT_INBOX is None:
            _DEFAULT_INBOX = cls()
        return _DEFAULT_INBOX
