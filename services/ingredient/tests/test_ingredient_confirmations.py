"""End-to-end acknowledgement of ingredient's outbox: the in-process fan-out confirms each
message it consumed; one published but never consumed is published again after the
window, and one never confirmed ends in the dead-letter table the migrations create."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from ingredient import Settings
from ingredient.db import OUTBOX, WEBHOOK_TABLES
from ingredient.events import (
    INGREDIENT_UPDATED,
    SUBSCRIBER,
    IngredientUpdatedV1,
    WebhookRuntime,
    build_webhooks,
)
from ingredient.migrate import MIGRATIONS
from spaps_jobs import OutboxMessage, Relay
from sqlalchemy import select
from sqlalchemy.orm import Session

WINDOW = 60.0


@pytest.fixture
async def runtime(database_url: str, clock: Any) -> AsyncIterator[WebhookRuntime]:
    await MIGRATIONS.upgrade(database_url)
    settings = Settings(
        database_url=database_url, outbox_redeliver_after=WINDOW, outbox_max_publishes=2
    )
    webhooks = build_webhooks(settings, clock=clock)
    yield webhooks
    webhooks.close()


def publish(runtime: WebhookRuntime) -> str:
    event = IngredientUpdatedV1(code="A1", name="Oats", version=2, changed=["name"])
    with Session(runtime.engine) as session:
        message_id = runtime.webhooks.publish(session, INGREDIENT_UPDATED, event, owner=SUBSCRIBER)
        session.commit()
    return message_id


def outbox_row(runtime: WebhookRuntime, message_id: str) -> Any:
    t = OUTBOX.table
    with runtime.engine.connect() as conn:
        return conn.execute(select(t).where(t.c.message_id == message_id)).one()


def fanned_out(runtime: WebhookRuntime, message_id: str) -> bool:
    m = WEBHOOK_TABLES.messages
    with runtime.engine.connect() as conn:
        row = conn.execute(select(m.c.fanned_out_at).where(m.c.id == message_id)).one()
    return row.fanned_out_at is not None


def losing_relay(runtime: WebhookRuntime) -> Relay:
    """A relay over the same outbox whose broker drops every message it is given."""

    def lose(batch: Sequence[OutboxMessage]) -> None:
        return None

    return Relay(
        OUTBOX,
        runtime.engine,
        lose,
        redelivery=runtime.redelivery,
        dead_letters=runtime.dead_letters,
        clock=runtime.clock,
    )


async def test_a_fanned_out_message_is_confirmed_and_never_sent_again(
    runtime: WebhookRuntime, clock: Any
) -> None:
    message_id = publish(runtime)
    runtime.run_once()
    row = outbox_row(runtime, message_id)
    assert fanned_out(runtime, message_id)
    assert (row.publishes, row.redeliver_at) == (1, None)
    assert row.confirmed_at is not None
    clock.advance(WINDOW * 100)
    runtime.run_once()
    assert outbox_row(runtime, message_id).publishes == 1
    assert runtime.relay.unconfirmed() == 0


async def test_a_message_published_but_never_consumed_is_published_again_after_the_window(
    runtime: WebhookRuntime, clock: Any
) -> None:
    message_id = publish(runtime)
    assert losing_relay(runtime).run_once() == 1
    row = outbox_row(runtime, message_id)
    assert (row.publishes, row.confirmed_at) == (1, None)
    assert not fanned_out(runtime, message_id)  # the fault: published, never consumed
    clock.advance(WINDOW - 1)
    runtime.run_once()
    assert outbox_row(runtime, message_id).publishes == 1  # the window is not over
    assert runtime.relay.unconfirmed() == 1
    clock.advance(2)
    runtime.run_once()
    row = outbox_row(runtime, message_id)
    assert row.publishes == 2
    assert fanned_out(runtime, message_id)
    assert row.confirmed_at is not None
    assert row.redeliver_at is None
    assert runtime.relay.unconfirmed() == 0


async def test_a_message_never_confirmed_goes_to_the_migrated_dead_letter_table(
    runtime: WebhookRuntime, clock: Any
) -> None:
    message_id = publish(runtime)
    lost = losing_relay(runtime)
    lost.run_once()
    clock.advance(WINDOW + 1)
    lost.run_once()  # the second and last publish (outbox_max_publishes=2)
    clock.advance(WINDOW * 2 + 1)
    lost.run_once()
    row = outbox_row(runtime, message_id)
    assert row.dead_lettered_at is not None
    assert row.confirmed_at is None
    assert runtime.dead_letters is not None
    [letter] = runtime.dead_letters.list()
    assert letter.task_id == message_id
    assert "not confirmed by its consumer after 2 publishes" in letter.error
