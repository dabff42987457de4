"""Apps and relays for ``spaps-jobs check`` (``--app spaps_jobs_check_apps:redis_app``)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry
from spaps_jobs import (
    CeleryDispatcher,
    DeadLetterStore,
    JobsCelery,
    JobsSettings,
    Outbox,
    Redelivery,
    Relay,
    RelayMetrics,
    create_celery_app,
)
from sqlalchemy import MetaData, create_engine


def _app(broker_url: str, **extra: object) -> JobsCelery:
    return create_celery_app(
        JobsSettings(broker_url=broker_url, result_backend=None, dead_letter_url=None, extra=extra),
        registry=CollectorRegistry(),
    )


redis_app = _app("redis://127.0.0.1:6379/0")
amqp_app = _app("amqp://guest:guest@127.0.0.1:5672//")
amqp_quorum_app = _app("amqp://guest:guest@127.0.0.1:5672//", task_default_queue_type="quorum")
amqp_unconfirmed_app = create_celery_app(
    JobsSettings(
        broker_url="amqp://guest:guest@127.0.0.1:5672//",
        result_backend=None,
        dead_letter_url=None,
        transport_options={"confirm_publish": False},
        extra={"task_default_queue_type": "quorum", "task_default_delivery_mode": "transient"},
    ),
    registry=CollectorRegistry(),
)
early_ack_app = _app("memory://", task_acks_late=False)
no_reject_app = _app("sqla+sqlite:///broker.db", task_reject_on_worker_lost=False)


def _relay(*, redelivery: bool, dead_letters: bool) -> Relay:
    engine = create_engine("sqlite://")
    return Relay(
        Outbox(MetaData(), confirmations=redelivery),
        engine,
        CeleryDispatcher(redis_app),
        redelivery=Redelivery(after=timedelta(minutes=5)) if redelivery else None,
        dead_letters=DeadLetterStore(engine) if dead_letters else None,
        metrics=RelayMetrics(registry=CollectorRegistry()),
    )


def plain_relay() -> Relay:
    return _relay(redelivery=False, dead_letters=False)


def acknowledged_relay() -> Relay:
    return _relay(redelivery=True, dead_letters=True)


def acknowledged_relay_without_dead_letters() -> Relay:
    return _relay(redelivery=True, dead_letters=False)
