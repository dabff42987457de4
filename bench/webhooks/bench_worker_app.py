"""Celery app of the delivery benchmark's worker process (configured from the environment)."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, Outbox, create_celery_app
from spaps_webhooks import URLGuard, Webhooks, WebhookTables, register_tasks
from sqlalchemy import MetaData, create_engine, event


def build(db_url: str, *, timeout: float = 15.0, lease_margin: float = 30.0) -> Webhooks:
    engine = create_engine(db_url, connect_args={"timeout": 60}, pool_size=16)

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    metadata = MetaData()
    return Webhooks(
        engine=engine,
        tables=WebhookTables(metadata),
        outbox=Outbox(metadata),
        guard=URLGuard(require_https=False, allow_networks=["127.0.0.0/8"]),
        timeout=timeout,
        lease_margin=lease_margin,
    )


def make_app(broker_url: str, queue: str) -> Any:
    settings = JobsSettings(
        name="webhooks-bench",
        broker_url=broker_url,
        result_backend=None,
        dead_letter_url=None,
        default_queue=queue,
        key_prefix=f"{queue}:",
    )
    return create_celery_app(settings, registry=CollectorRegistry())


if "BENCH_DB_URL" in os.environ:
    webhooks = build(
        os.environ["BENCH_DB_URL"],
        timeout=float(os.environ.get("BENCH_TIMEOUT", "15")),
        lease_margin=float(os.environ.get("BENCH_LEASE_MARGIN", "30")),
    )
    app = make_app(os.environ["BENCH_BROKER_URL"], os.environ["BENCH_QUEUE"])
    register_tasks(app, webhooks)
