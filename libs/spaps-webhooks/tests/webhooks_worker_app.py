"""The Celery app a real worker process runs in the fault tests (not a test module).

Configured from the environment by the test that starts it.
"""

import os
import signal
from typing import Any

from celery.signals import task_prerun
from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, Outbox, create_celery_app
from spaps_webhooks import (
    FAN_OUT_TOPIC,
    RetrySchedule,
    URLGuard,
    Webhooks,
    WebhookTables,
    register_tasks,
)
from sqlalchemy import MetaData, create_engine, event


def build(db_url: str, *, timeout: float, **overrides: Any) -> Webhooks:
    """The Webhooks configuration shared by the test process and the worker."""
    engine = create_engine(db_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    metadata = MetaData()
    options: dict[str, Any] = {
        "guard": URLGuard(require_https=False, allow_networks=["127.0.0.0/8"]),
        "schedule": RetrySchedule(delays=[0, 0.2, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1, 1], jitter=0.2),
        "lease_margin": 0.5,
    }
    options.update(overrides)
    return Webhooks(
        engine=engine,
        tables=WebhookTables(metadata),
        outbox=Outbox(metadata),
        timeout=timeout,
        **options,
    )


def celery_settings(broker_url: str, queue: str) -> JobsSettings:
    """Celery settings: a Redis broker, keys and queue namespaced by ``queue``."""
    return JobsSettings(
        name="webhooks-tests",
        broker_url=broker_url,
        result_backend=None,
        dead_letter_url=None,
        default_queue=queue,
        soft_time_limit=30,
        time_limit=40,
        visibility_timeout=60,
        key_prefix=f"{queue}:",
    )


if "WH_DB_URL" in os.environ:
    webhooks = build(os.environ["WH_DB_URL"], timeout=float(os.environ["WH_TIMEOUT"]))
    app = create_celery_app(
        celery_settings(os.environ["WH_BROKER_URL"], os.environ["WH_QUEUE"]),
        registry=CollectorRegistry(),
    )
    tasks = register_tasks(app, webhooks, max_countdown=5, sweep_interval=0.5)

    if os.environ.get("WH_KILL_AT") == "fan_out":
        # The injected fault: die by SIGKILL as a fan-out task starts, after the broker
        # handed it over and before anything is written (the window issue #22 measured).
        @task_prerun.connect
        def _die(sender: Any = None, **_: Any) -> None:
            if getattr(sender, "name", None) == FAN_OUT_TOPIC:
                os.kill(os.getpid(), signal.SIGKILL)
