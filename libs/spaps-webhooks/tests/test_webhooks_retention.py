"""Retention of the delivery log and the receipts: only finished deliveries completed
before the cutoff go, with their attempts; messages go once no delivery is left; pending,
retrying and in-flight deliveries never do. Driven directly on both back ends, then by
spaps-jobs' runner over deliveries a real delivery pass made."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel
from spaps_jobs import Retention, RetentionTarget
from spaps_webhooks import Webhooks, WebhookTables
from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from conftest import Clock, LoopbackServer

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
CUTOFF = T0 + 10 * DAY


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, WebhookTables]]:
    """The webhook tables on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'retention.db'}"
    else:
        pg: str = request.getfixturevalue("postgres_url")
        url = pg.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    tables = WebhookTables(MetaData())
    async with engine.begin() as connection:
        await connection.run_sync(tables.metadata.create_all)
    yield engine, tables
    await engine.dispose()


def message(id: str, *, created: datetime = T0, fanned_out: bool = True) -> dict[str, Any]:
    return {
        "id": id, "owner": "o", "event_type": "e.v1", "body": "{}", "endpoint_id": None,
        "created_at": created, "fanned_out_at": created if fanned_out else None,
    }  # fmt: skip


def delivery(
    id: str, message_id: str, status: str, *, completed: datetime | None = None, attempts: int = 1
) -> dict[str, Any]:
    return {
        "id": id, "message_id": message_id, "endpoint_id": "ep", "status": status,
        "attempts": attempts, "next_attempt_at": T0 + 11 * DAY if status == "pending" else None,
        "lease_until": T0 + 11 * DAY if status == "delivering" else None,
        "enqueued_until": None, "last_status_code": None, "last_error": None,
        "created_at": T0, "updated_at": completed or T0, "completed_at": completed,
    }  # fmt: skip


def attempt(delivery_id: str, message_id: str, number: int) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id, "message_id": message_id, "endpoint_id": "ep",
        "number": number, "started_at": T0, "status_code": 500, "latency_ms": 1.0,
        "response_excerpt": None, "error": None, "succeeded": False,
    }  # fmt: skip


DELIVERIES = [
    delivery("d-ok", "m-old", "succeeded", completed=T0 + DAY),
    delivery("d-failed", "m-old", "failed", completed=T0 + 2 * DAY, attempts=2),
    delivery("d-cancelled", "m-mixed", "cancelled", completed=T0 + 3 * DAY),
    delivery("d-ok-late", "m-late", "succeeded", completed=T0 + 20 * DAY),
    delivery("d-pending", "m-mixed", "pending", attempts=0),
    delivery("d-retrying", "m-late", "pending", attempts=2),
    delivery("d-delivering", "m-late", "delivering"),
]


async def fill(engine: AsyncEngine, tables: WebhookTables) -> None:
    """Messages, deliveries in every state with their attempts, and receipts."""
    messages = [
        message("m-old"), message("m-mixed"), message("m-late"), message("m-empty"),
        message("m-unfanned", fanned_out=False), message("m-new", created=T0 + 15 * DAY),
    ]  # fmt: skip
    attempts = [
        attempt(d["id"], d["message_id"], n)
        for d in DELIVERIES
        for n in range(1, d["attempts"] + 1)
    ]
    receipts = [
        {"webhook_id": f"msg-{day}", "outcome": "accepted", "status": 204, "code": None,
         "detail": None, "size": 2, "received_at": T0 + day * DAY}
        for day in (1, 2, 20)
    ]  # fmt: skip
    async with engine.begin() as connection:
        await connection.execute(insert(tables.messages), messages)
        await connection.execute(insert(tables.deliveries), DELIVERIES)
        await connection.execute(insert(tables.attempts), attempts)
        await connection.execute(insert(tables.receipts), receipts)


async def count(engine: AsyncEngine, target: RetentionTarget) -> int:
    async with engine.connect() as connection:
        return await target.count_expired(connection, cutoff=CUTOFF)


async def purge(engine: AsyncEngine, target: RetentionTarget, limit: int) -> int:
    async with engine.begin() as connection:
        return await target.purge_batch(connection, cutoff=CUTOFF, limit=limit)


async def column(engine: AsyncEngine, table: Table, name: str) -> list[Any]:
    async with engine.connect() as connection:
        return sorted((await connection.execute(select(table.c[name]))).scalars())


async def test_only_finished_deliveries_go_oldest_first_with_their_attempts(
    db: tuple[AsyncEngine, WebhookTables],
) -> None:
    engine, tables = db
    await fill(engine, tables)
    target = tables.delivery_retention()
    assert await count(engine, target) == 3

    assert await purge(engine, target, 2) == 2
    assert "d-cancelled" in await column(engine, tables.deliveries, "id")  # oldest first
    assert [await purge(engine, target, 2) for _ in range(2)] == [1, 0]
    assert await count(engine, target) == 0

    kept = ["d-delivering", "d-ok-late", "d-pending", "d-retrying"]
    assert await column(engine, tables.deliveries, "id") == kept
    attempts = await column(engine, tables.attempts, "delivery_id")
    assert sorted(set(attempts)) == ["d-delivering", "d-ok-late", "d-retrying"]
    assert len(attempts) == 4  # d-retrying's two and one each


async def test_messages_go_once_fanned_out_and_without_deliveries(
    db: tuple[AsyncEngine, WebhookTables],
) -> None:
    engine, tables = db
    await fill(engine, tables)
    messages = tables.message_retention()
    # Before the delivery log is purged only the message no endpoint subscribed to goes.
    assert await count(engine, messages) == 1
    while await purge(engine, tables.delivery_retention(), 100):
        pass
    assert await count(engine, messages) == 2
    assert await purge(engine, messages, 1) == 1
    assert await purge(engine, messages, 1) == 1
    assert await purge(engine, messages, 1) == 0
    # m-mixed keeps a pending delivery, m-late live ones, m-unfanned waits for its
    # fan-out, m-new is younger than the cutoff.
    left = await column(engine, tables.messages, "id")
    assert left == ["m-late", "m-mixed", "m-new", "m-unfanned"]


async def test_receipts_recorded_before_the_cutoff_go(
    db: tuple[AsyncEngine, WebhookTables],
) -> None:
    engine, tables = db
    await fill(engine, tables)
    receipts = tables.receipt_retention()
    assert await count(engine, receipts) == 2
    assert [await purge(engine, receipts, 1) for _ in range(3)] == [1, 1, 0]
    assert await column(engine, tables.receipts, "webhook_id") == ["msg-20"]


def test_targets_declare_their_names_and_keep() -> None:
    tables = WebhookTables(MetaData())
    targets = [tables.delivery_retention(), tables.message_retention(), tables.receipt_retention()]
    assert [(t.name, t.default_keep) for t in targets] == [
        ("webhooks.deliveries", 30 * DAY),
        ("webhooks.messages", 30 * DAY),
        ("webhooks.receipts", 30 * DAY),
    ]
    assert all(isinstance(t, RetentionTarget) for t in targets)
    custom = tables.delivery_retention(keep=7 * DAY, name="webhooks.other_deliveries")
    assert (custom.name, custom.default_keep) == ("webhooks.other_deliveries", 7 * DAY)
    with pytest.raises(ValueError, match="keep must be positive"):
        tables.receipt_retention(keep=timedelta(0))
    with pytest.raises(ValueError, match="name"):
        tables.message_retention(name="")


async def test_batches_refuse_a_naive_cutoff_and_a_limit_below_one(
    db: tuple[AsyncEngine, WebhookTables],
) -> None:
    engine, tables = db
    target = tables.delivery_retention()
    async with engine.begin() as connection:
        with pytest.raises(ValueError, match="aware"):
            await target.count_expired(connection, cutoff=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="limit"):
            await target.purge_batch(connection, cutoff=T0, limit=0)


class ResultReadyV1(BaseModel):
    """A lab result is ready."""

    result_id: int


async def test_the_runner_purges_what_a_delivery_pass_finished(
    make_webhooks: Callable[..., Webhooks],
    clock: Clock,
    loopback_server: Callable[..., LoopbackServer],
    tmp_path: Path,
) -> None:
    webhooks = make_webhooks(timeout=1.0, now=clock)
    webhooks.registry.register("result.ready.v1", ResultReadyV1)
    answers = {"ok": 204, "gone": 410, "busy": 500}
    for name, status in answers.items():
        server = loopback_server(reply=lambda path, status=status: (status, {}))
        webhooks.endpoints.create(
            "clinic-1", f"http://127.0.0.1:{server.port}/{name}", event_types=["result.ready.v1"]
        )
    record = webhooks.message("result.ready.v1", {"result_id": 1}, owner="clinic-1")
    for delivery_id in webhooks.fan_out(record):
        webhooks.deliver(delivery_id)
    states = sorted(d.status for d in webhooks.history.deliveries("clinic-1"))
    assert states == ["failed", "pending", "succeeded"]  # 410 fails for good, 500 retries

    database = webhooks.engine.url.database
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
    try:
        tables = webhooks.tables
        retention = Retention(engine, clock=lambda: clock() + 31 * DAY, batch_size=1)
        retention.register(tables.delivery_retention(), tables.message_retention())
        dry = await retention.purge("webhooks.deliveries", dry_run=True)
        report = await retention.purge("webhooks.deliveries")
        assert (dry.rows, report.rows, report.batches) == (2, 2, 2)
        # The endpoint-disabled notice no endpoint subscribed to goes; the message
        # whose delivery still retries stays.
        assert (await retention.purge("webhooks.messages")).rows == 1
    finally:
        await engine.dispose()
    [pending] = webhooks.history.deliveries("clinic-1")
    assert pending.status == "pending"
    attempts = webhooks.history.attempts("clinic-1")
    assert {a.delivery_id for a in attempts} == {pending.id}
    with webhooks.engine.connect() as connection:
        messages = connection.execute(select(tables.messages.c.id)).scalars().all()
    assert messages == [record["id"]]
