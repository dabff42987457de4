"""End-to-end acknowledgement of htma's outbox: the worker's consumers (``compute_result``,
the webhook fan-out) confirm what they consumed, and the relay publishes again what was
published but never consumed, once the window is over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from htma import Settings
from htma.db import OUTBOX
from htma.migrate import MIGRATIONS
from htma.runtime import PANEL_SUBMITTED
from htma.worker import Worker, create_worker
from spaps_jobs import MESSAGE_ID_HEADER
from spaps_webhooks import FAN_OUT_TOPIC
from sqlalchemy import select

from .conftest import ClientFactory

WINDOW = 60.0


@pytest.fixture
async def worker(
    database_url: str, make_client: ClientFactory, tmp_path: Path, clock: Any
) -> AsyncIterator[Worker]:
    """A worker (SQLite broker nobody consumes) over a database holding one submitted
    panel, whose ``htma.panel_submitted`` message waits in the outbox."""
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, compute_mode="worker") as client:
        clinic = await client.clinic("northside")
        submitted = await client.submit_panel(clinic)
        assert submitted.status_code == 202, submitted.text
    settings = Settings(
        database_url=database_url,
        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        signing_keys_path=tmp_path / "keys.json",
        ingredient_url="http://127.0.0.1:9",
        outbox_redeliver_after=WINDOW,
    )
    built = create_worker(settings, clock=clock)
    yield built
    built.runtime.close()


def rows(worker: Worker, topic: str) -> list[Any]:
    t = OUTBOX.table
    with worker.runtime.sync_engine.connect() as conn:
        return list(conn.execute(select(t).where(t.c.topic == topic).order_by(t.c.seq)))


def consume(worker: Worker, row: Any) -> None:
    """Run the task of an outbox row as a worker receiving the relay's message does."""
    task = worker.celery.tasks[row.topic]
    result = task.apply(
        args=[row.payload], task_id=row.message_id, headers={MESSAGE_ID_HEADER: row.message_id}
    )
    assert result.successful(), result.traceback


async def test_a_message_published_but_never_consumed_is_published_again_after_the_window(
    worker: Worker, clock: Any
) -> None:
    assert worker.relay.run_once() == 1
    [row] = rows(worker, PANEL_SUBMITTED)
    assert (row.publishes, row.confirmed_at) == (1, None)  # published, not consumed
    clock.advance(WINDOW - 1)
    assert worker.relay.run_once() == 0  # the window is not over
    assert worker.relay.unconfirmed() == 1
    clock.advance(2)
    assert worker.relay.run_once() == 1
    [row] = rows(worker, PANEL_SUBMITTED)
    assert row.publishes == 2
    assert row.confirmed_at is None


async def test_consumed_messages_are_confirmed_and_never_published_again(
    worker: Worker, clock: Any
) -> None:
    assert worker.relay.run_once() == 1
    [submitted] = rows(worker, PANEL_SUBMITTED)
    await asyncio.to_thread(consume, worker, submitted)
    [submitted] = rows(worker, PANEL_SUBMITTED)
    assert submitted.confirmed_at is not None
    assert submitted.redeliver_at is None
    # The result's result.ready.v1 webhook: the fan-out consumes and confirms it.
    assert worker.relay.run_once() == 1
    [fan_out] = rows(worker, FAN_OUT_TOPIC)
    assert fan_out.publishes == 1
    assert fan_out.confirmed_at is None
    await asyncio.to_thread(consume, worker, fan_out)
    [fan_out] = rows(worker, FAN_OUT_TOPIC)
    assert fan_out.confirmed_at is not None
    assert fan_out.redeliver_at is None
    clock.advance(WINDOW * 100)
    assert worker.relay.run_once() == 0
    assert worker.relay.unconfirmed() == 0
    assert [r.publishes for r in rows(worker, PANEL_SUBMITTED) + rows(worker, FAN_OUT_TOPIC)] == [
        1,
        1,
    ]


async def test_a_redelivered_panel_is_confirmed_without_a_second_result(
    worker: Worker, clock: Any
) -> None:
    """The consumer died after storing the result, before confirming: the re-sent
    message finds the result, publishes nothing new and confirms."""
    worker.relay.run_once()
    [submitted] = rows(worker, PANEL_SUBMITTED)
    await asyncio.to_thread(consume, worker, submitted)
    await asyncio.to_thread(consume, worker, submitted)  # the duplicate
    assert len(rows(worker, FAN_OUT_TOPIC)) == 1
    [submitted] = rows(worker, PANEL_SUBMITTED)
    assert submitted.confirmed_at is not None
