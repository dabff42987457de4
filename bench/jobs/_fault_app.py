"""Celery app and tables of the fault benchmark (``celery -A _fault_app:app worker``).

Configured by environment variables set by ``fault_kill.py``. The consumer records its
effect, its inbox row and the outbox confirmation in one PostgreSQL (or SQLite)
transaction; a delivery the inbox has seen before is counted in ``fault_duplicates``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, Outbox, SqlInbox, create_celery_app, message_id_of
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

metadata = MetaData()
outbox = Outbox(metadata, confirmations=True)
inbox = SqlInbox(metadata, outbox=outbox)
effects = Table("fault_effects", metadata, Column("message_id", String(64), primary_key=True))
duplicates = Table(
    "fault_duplicates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(64), nullable=False),
)

app = create_celery_app(
    JobsSettings(
        broker_url=os.environ.get("FAULT_BROKER", "memory://"),
        result_backend=None,
        default_queue=os.environ.get("FAULT_QUEUE", "fault"),
        key_prefix=os.environ.get("FAULT_PREFIX") or None,
        soft_time_limit=20,
        time_limit=40,
        visibility_timeout=60,
        dead_letter_url=None,
        transport_options={"polling_interval": 0.05}
        if os.environ.get("FAULT_BROKER", "").startswith("redis")
        else {},
        # Workers are restarted under the same node name while RabbitMQ may still hold
        # the killed one's connection: no remote-control queue to collide on.
        extra={"worker_enable_remote_control": False},
    ),
    registry=CollectorRegistry(),
)
WORK_SECONDS = float(os.environ.get("FAULT_WORK", "0.02"))
_engines: dict[int, Engine] = {}


def _engine() -> Engine:
    """One engine per process: prefork children must not share the parent's pool."""
    pid = os.getpid()
    if pid not in _engines:
        _engines[pid] = create_engine(os.environ.get("FAULT_DB", "sqlite://"))
    return _engines[pid]


@app.task(name="fault.consume", bind=True)
def consume(self: Any, payload: object) -> None:
    """Simulated work, then the effect recorded once per message id."""
    time.sleep(WORK_SECONDS)  # sleep-ok: simulated work keeps the worker busy when killed
    message_id = message_id_of(self.request)
    with Session(_engine()) as session, session.begin():
        if inbox.accept(session, message_id, consumer="fault"):
            session.execute(effects.insert().values(message_id=message_id))
        else:
            session.execute(duplicates.insert().values(message_id=message_id))
