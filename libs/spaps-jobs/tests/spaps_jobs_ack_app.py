"""Worker app of the acknowledgement tests (``celery -A spaps_jobs_ack_app worker``).

The consumer records its effect, its inbox row and the outbox confirmation in one
transaction. Kill points are injected by the test: when the file
``kill-<point>-<message id>`` exists in ``SPAPS_TEST_MARKERS`` as the consumer reaches
``<point>`` (``received``: the task started, nothing recorded; ``recorded``: committed,
not yet acknowledged), the consumer removes it, writes ``at-<point>-<message id>`` with
its pid and waits for the test's SIGKILL.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from spaps_jobs import JobsSettings, create_celery_app, message_id_of
from spaps_jobs_ack_schema import AckSchema
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

app = create_celery_app(
    JobsSettings(
        broker_url=os.environ["SPAPS_TEST_BROKER"],
        result_backend=None,
        default_queue=os.environ["SPAPS_TEST_QUEUE"],
        key_prefix=os.environ.get("SPAPS_TEST_KEY_PREFIX") or None,
        soft_time_limit=float(os.environ.get("SPAPS_TEST_VISIBILITY", "3600")) * 0.5,
        time_limit=float(os.environ.get("SPAPS_TEST_VISIBILITY", "3600")) * 0.8,
        visibility_timeout=float(os.environ.get("SPAPS_TEST_VISIBILITY", "3600")),
        dead_letter_url=None,
        transport_options={"polling_interval": 0.1},
        # Tests run workers side by side under one node name: without remote control
        # there is no per-node pidbox queue for two of them to fight over (RabbitMQ).
        extra={"worker_enable_remote_control": False},
    ),
    registry=CollectorRegistry(),
)
schema = AckSchema()
_engine = create_engine(os.environ.get("SPAPS_TEST_OUTBOX_DB", "sqlite://"))
_markers = Path(os.environ.get("SPAPS_TEST_MARKERS", "."))


def _point(name: str, message_id: str) -> None:
    plan = _markers / f"kill-{name}-{message_id}"
    if not plan.exists():
        return
    plan.unlink()
    at = _markers / f"at-{name}-{message_id}"
    partial = at.with_name(f".{at.name}.partial")
    partial.write_text(str(os.getpid()))
    partial.replace(at)
    while True:  # waits for a signal: only the test's SIGKILL ends it
        signal.pause()


def _consume(task: Any) -> None:
    message_id = message_id_of(task.request)
    _point("received", message_id)
    with Session(_engine) as session, session.begin():
        if schema.inbox.accept(session, message_id, consumer="orders"):
            session.execute(schema.effects.insert().values(message_id=message_id, pid=os.getpid()))
        else:
            session.execute(schema.duplicates.insert().values(message_id=message_id))
    _point("recorded", message_id)


@app.task(name="ack.consume", bind=True)
def consume(self: Any, payload: object) -> None:
    """Late ack (the library default): the broker holds the message until this returns."""
    _consume(self)
