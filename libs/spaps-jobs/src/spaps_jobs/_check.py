"""``check_configuration``: flag settings that promise more than their broker keeps.

Which guarantee each broker gives a plain task (one sent with ``apply_async``, not
through the outbox), with ``create_celery_app``'s defaults (late acks, reject on
worker lost, prefetch 1):

* RabbitMQ: a message stays in the queue until the task acks it; a killed worker's
  channel closes and the broker delivers it again at once. With publisher confirms
  (on by default here) a publish returns once the broker holds the message; durable
  queues and persistent messages survive a broker restart, quorum queues a node loss.
* Redis: a delivered task is popped from the list (``BRPOP``) and then recorded in the
  ``unacked`` hash; a worker killed between the two loses the task for good
  (celery/celery#4354, #7950; celery/kombu#305, #1836). Late acks narrow the window;
  they do not close it. Work that must not be lost goes through the outbox with
  redelivery (:class:`~spaps_jobs.Redelivery`), or to RabbitMQ.
* ``memory://`` keeps nothing across a restart; the embedded SQLite broker is for
  development.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ConfigFinding", "check_configuration"]

_REDIS_SCHEMES = ("redis://", "rediss://", "sentinel://", "redis+socket://")
_AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://", "librabbitmq://")
_REDIS_LOSS = (
    "the Redis transport can lose a task whose worker dies between popping it (BRPOP) "
    "and recording it as unacknowledged (celery/celery#4354, #7950; celery/kombu#305, "
    "#1836): late acks do not make plain tasks safe from loss. Send work that must not "
    "be lost through the outbox with a Relay(redelivery=Redelivery(...)), or use RabbitMQ"
)


@dataclass(frozen=True, slots=True)
class ConfigFinding:
    """One finding of :func:`check_configuration`.

    Args:
        code: Stable identifier (``jobs.<what>``), e.g. to acknowledge it in a pipeline.
        severity: ``"warning"`` (a promise the configuration cannot keep) or ``"info"``.
        message: What is wrong and what to do instead.

    .. versionadded:: 0.3.0
    """

    code: str
    severity: Literal["warning", "info"]
    message: str


def _broker_url(app: Any) -> str:
    url = app.conf.broker_url or ""
    return str(url[0] if isinstance(url, list | tuple) else url)


_Add = Callable[[str, Literal["warning", "info"], str], None]


def _check_acks(conf: Any, add: _Add) -> None:
    if not conf.task_acks_late:
        add(
            "jobs.early_ack",
            "warning",
            "task_acks_late is off: a task is acknowledged before it runs and is lost when "
            "its worker dies; keep late acks (the create_celery_app default)",
        )
    elif not conf.task_reject_on_worker_lost:
        add(
            "jobs.ack_on_worker_lost",
            "warning",
            "task_reject_on_worker_lost is off: a task whose pool process is killed is "
            "acknowledged as failed instead of being delivered again",
        )


def _check_redis(conf: Any, options: dict[str, Any], add: _Add) -> None:
    if conf.task_acks_late:
        add(
            "jobs.redis_can_lose_tasks",
            "warning",
            "late acks promise redelivery, but " + _REDIS_LOSS,
        )
    visibility = options.get("visibility_timeout", 3600)
    if conf.task_time_limit and visibility <= conf.task_time_limit:
        add(
            "jobs.visibility_timeout_short",
            "warning",
            f"visibility_timeout {visibility} s does not exceed task_time_limit "
            f"{conf.task_time_limit} s: Redis delivers running tasks a second time",
        )


def _check_amqp(conf: Any, options: dict[str, Any], add: _Add) -> None:
    if not options.get("confirm_publish"):
        add(
            "jobs.no_publisher_confirms",
            "warning",
            "publisher confirms are off (broker_transport_options confirm_publish): a "
            "publish can return before RabbitMQ holds the message and be lost with it",
        )
    if conf.task_default_delivery_mode in (1, "transient"):
        add(
            "jobs.transient_messages",
            "warning",
            "task_default_delivery_mode is transient: queued tasks are lost when RabbitMQ restarts",
        )
    if conf.task_default_queue_type != "quorum":
        add(
            "jobs.classic_queues",
            "info",
            "classic queues survive a broker restart but not the loss of its node; "
            "quorum queues (task_default_queue_type='quorum') replicate",
        )


def _check_relay(relay: Any, add: _Add) -> None:
    if getattr(relay, "redelivery", None) is None:
        add(
            "jobs.outbox_without_redelivery",
            "warning",
            "the relay marks a message done when it is published: one the broker drops "
            "afterwards is never sent again; build the Outbox with confirmations=True and "
            "give the Relay a Redelivery",
        )
    elif getattr(relay, "dead_letters", None) is None:
        add(
            "jobs.redelivery_without_dead_letters",
            "info",
            "messages never confirmed are only logged; give the Relay dead_letters=",
        )


def check_configuration(app: Any, *, relay: Any = None) -> list[ConfigFinding]:
    """Findings about a Celery app's delivery guarantees (and an outbox relay's).

    Args:
        app: A Celery app (usually from :func:`~spaps_jobs.create_celery_app`).
        relay: The service's :class:`~spaps_jobs.Relay`, if it has one.

    Returns:
        The findings, warnings first; an empty list when nothing is promised that the
        broker cannot keep.

    .. versionadded:: 0.3.0
    """
    found: list[ConfigFinding] = []

    def add(code: str, severity: Literal["warning", "info"], message: str) -> None:
        found.append(ConfigFinding(code, severity, message))

    conf = app.conf
    url = _broker_url(app)
    options = dict(conf.broker_transport_options or {})
    _check_acks(conf, add)
    if url.startswith(_REDIS_SCHEMES):
        _check_redis(conf, options, add)
    elif url.startswith(_AMQP_SCHEMES):
        _check_amqp(conf, options, add)
    elif url.startswith("memory://"):
        add("jobs.memory_broker", "warning", "the memory:// broker keeps nothing: tests only")
    elif url.startswith("sqla+"):
        add("jobs.embedded_broker", "info", "the embedded SQLAlchemy broker is for development")
    if relay is not None:
        _check_relay(relay, add)
    return sorted(found, key=lambda f: (f.severity != "warning", f.code))
