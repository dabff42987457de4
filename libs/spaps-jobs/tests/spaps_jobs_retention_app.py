"""The Celery app of the retention worker and beat tests (``celery -A spaps_jobs_retention_app``).

Configured from environment variables set by the test: its broker, queue and key prefix,
and the database whose outbox the beat-scheduled ``spaps.retention.purge`` task purges.
The schedule comes through the ``schedules`` setting, like a service's configuration.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, Outbox, Retention, create_celery_app, install_retention
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

metadata = MetaData()
outbox = Outbox(metadata)

app = create_celery_app(
    JobsSettings(
        broker_url=os.environ["SPAPS_TEST_BROKER"],
        result_backend=None,
        default_queue=os.environ["SPAPS_TEST_QUEUE"],
        key_prefix=os.environ.get("SPAPS_TEST_KEY_PREFIX") or None,
        dead_letter_url=None,
        transport_options={"polling_interval": 0.1},
        schedules={
            "purge-outbox": {
                "task": "spaps.retention.purge",
                "every": float(os.environ.get("SPAPS_TEST_EVERY", "0.5")),
                "args": ["jobs.outbox"],
            }
        },
        extra={"worker_enable_remote_control": False},
    ),
    registry=CollectorRegistry(),
)


@contextlib.asynccontextmanager
async def open_retention() -> AsyncIterator[Retention]:
    engine = create_async_engine(os.environ["SPAPS_TEST_RETENTION_DB"])
    try:
        retention = Retention(engine)
        retention.register(outbox.retention())
        yield retention
    finally:
        await engine.dispose()


install_retention(app, open_retention)
