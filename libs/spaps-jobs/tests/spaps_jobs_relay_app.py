"""A relay factory for ``python -m spaps_jobs relay --factory spaps_jobs_relay_app:make_relay``.

Configured from environment variables by the relay fault test. With
``SPAPS_TEST_PAUSE_AFTER=N`` the relay stops for good right after publishing its N-th
message (waiting for a signal that never comes), so the test's SIGKILL lands exactly
there: in the middle of a batch when N is not a multiple of the batch size.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry
from spaps_jobs import (
    CeleryDispatcher,
    JobsSettings,
    Outbox,
    OutboxMessage,
    Relay,
    create_celery_app,
)
from sqlalchemy import MetaData, create_engine


def make_outbox() -> tuple[MetaData, Outbox]:
    metadata = MetaData()
    return metadata, Outbox(metadata)


def make_relay() -> Relay:
    app = create_celery_app(
        JobsSettings(
            broker_url=os.environ["SPAPS_TEST_BROKER"],
            result_backend=None,
            default_queue=os.environ["SPAPS_TEST_QUEUE"],
            key_prefix=os.environ["SPAPS_TEST_KEY_PREFIX"],
            dead_letter_url=None,
        ),
        registry=CollectorRegistry(),
    )
    dispatcher = CeleryDispatcher(app, routes={"order.placed": "t.consume"})
    pause_after = int(os.environ.get("SPAPS_TEST_PAUSE_AFTER", "0"))
    published = 0

    def dispatch_then_pause(messages: Sequence[OutboxMessage]) -> None:
        nonlocal published
        for message in messages:
            dispatcher([message])
            published += 1
            if published == pause_after:
                while True:  # until the test SIGKILLs this process
                    signal.pause()

    _, outbox = make_outbox()
    engine = create_engine(os.environ["SPAPS_TEST_OUTBOX_DB"])
    return Relay(
        outbox,
        engine,
        dispatch_then_pause,
        batch_size=int(os.environ.get("SPAPS_TEST_BATCH", "25")),
        poll_interval=0.05,
    )


def make_file_relay() -> Relay:
    """A relay whose dispatch appends message ids to a file (no broker needed)."""
    target = Path(os.environ["SPAPS_TEST_SINK"])

    def to_file(messages: Sequence[OutboxMessage]) -> None:
        with target.open("a") as sink:
            sink.writelines(f"{message.id}\n" for message in messages)

    _, outbox = make_outbox()
    engine = create_engine(os.environ["SPAPS_TEST_OUTBOX_DB"])
    return Relay(outbox, engine, to_file, batch_size=10, poll_interval=0.05)


def not_a_relay() -> object:
    return object()
