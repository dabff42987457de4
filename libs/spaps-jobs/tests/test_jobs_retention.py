"""Retention: the runner (batches, dry runs, overrides, errors) and spaps-jobs' own
targets (outbox, inbox, dedupe records, dead letters), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from spaps_jobs import (
    AsyncSqlDedupeStore,
    DeadLetterStore,
    Outbox,
    PurgeReport,
    Retention,
    RetentionTarget,
    RetentionTargetNotFoundError,
    SpapsJobsError,
    SqlDedupeStore,
    SqlInbox,
)
from sqlalchemy import MetaData, Table, create_engine, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=10)  # older than every default keep but the dead letters'
RECENT = NOW - timedelta(hours=2)


def clock() -> datetime:
    return NOW


@dataclass
class Database:
    """One database of a test: the async engine the runner uses, a sync one to seed
    and inspect it, and the library's tables on it."""

    engine: AsyncEngine
    sync: Engine
    outbox: Outbox
    acked: Outbox
    inbox: SqlInbox
    dedupe: AsyncSqlDedupeStore
    dead_letters: DeadLetterStore

    def count(self, table: Table, *where: Any) -> int:
        with self.sync.connect() as conn:
            query = select(func.count()).select_from(table).where(*where)
            return int(conn.execute(query).scalar_one())

    def seed(self, table: Table, rows: list[dict[str, Any]]) -> None:
        with self.sync.begin() as conn:
            conn.execute(insert(table), rows)

    def retention(self, **options: Any) -> Retention:
        retention = Retention(self.engine, clock=clock, **options)
        retention.register(
            self.outbox.retention(),
            self.acked.retention(name="jobs.outbox_acked"),
            self.inbox.retention(),
            self.dedupe.retention(),
            self.dead_letters.retention(),
        )
        return retention


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        sync_url = f"sqlite:///{tmp_path / 'retention.db'}"
        async_url = f"sqlite+aiosqlite:///{tmp_path / 'retention.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        sync_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        async_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    sync = create_engine(sync_url)
    engine = create_async_engine(async_url)
    metadata = MetaData()
    database = Database(
        engine=engine,
        sync=sync,
        outbox=Outbox(metadata),
        acked=Outbox(metadata, table_name="spaps_outbox_acked", confirmations=True),
        inbox=SqlInbox(metadata),
        dedupe=AsyncSqlDedupeStore(engine, metadata=metadata),
        # Its table is created on first use (see test_dead_letters_table_not_created_yet).
        dead_letters=DeadLetterStore(sync),
    )
    metadata.create_all(sync)
    yield database
    await engine.dispose()
    sync.dispose()


def outbox_rows(prefix: str, count: int, *, sent_at: datetime | None, **extra: Any) -> list[Any]:
    return [
        {
            "message_id": f"{prefix}-{n}",
            "topic": "t",
            "payload": {},
            "headers": {},
            "created_at": OLD - timedelta(days=1),
            "sent_at": sent_at,
            "attempts": 0,
            **extra,
        }
        for n in range(count)
    ]


# --- the runner ----------------------------------------------------------------------------


async def test_purge_runs_batches_and_keeps_pending_and_recent_rows(db: Database) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 2500, sent_at=OLD))
    db.seed(db.outbox.table, outbox_rows("pending", 3, sent_at=None))
    db.seed(db.outbox.table, outbox_rows("recent", 2, sent_at=RECENT))
    seen: list[int] = []

    report = await db.retention().purge("jobs.outbox", progress=seen.append)

    assert report == PurgeReport(
        name="jobs.outbox", cutoff=NOW - timedelta(days=7), rows=2500, batches=3, dry_run=False
    )
    assert seen == [1000, 1000, 500]
    t = db.outbox.table
    assert db.count(t) == 5
    assert db.count(t, t.c.sent_at.is_(None)) == 3
    assert db.count(t, t.c.sent_at == RECENT) == 2


async def test_a_full_last_batch_ends_with_an_empty_one(db: Database) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 4, sent_at=OLD))
    seen: list[int] = []
    report = await db.retention(batch_size=2).purge("jobs.outbox", progress=seen.append)
    assert (report.rows, report.batches, seen) == (4, 2, [2, 2])
    assert db.count(db.outbox.table) == 0


async def test_dry_run_counts_and_writes_nothing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 2500, sent_at=OLD))
    db.seed(db.outbox.table, outbox_rows("pending", 3, sent_at=None))
    seen: list[int] = []
    with caplog.at_level(logging.INFO, logger="spaps.retention"):
        report = await db.retention().purge("jobs.outbox", dry_run=True, progress=seen.append)
    assert (report.rows, report.batches, report.dry_run) == (2500, 3, True)
    assert seen == []
    assert db.count(db.outbox.table) == 2503
    [record] = caplog.records
    assert record.getMessage() == (
        f"retention.dry_run target=jobs.outbox rows=2500 batches=3 "
        f"cutoff={(NOW - timedelta(days=7)).isoformat()}"
    )
    assert record.__dict__["event"] == "retention.dry_run"
    assert record.__dict__["dry_run"] is True


async def test_one_log_line_per_run_with_the_counts(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 5, sent_at=OLD))
    with caplog.at_level(logging.INFO, logger="spaps.retention"):
        await db.retention(batch_size=2).purge("jobs.outbox")
    [record] = caplog.records
    assert record.name == "spaps.retention"
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("retention.purged target=jobs.outbox rows=5 batches=3 ")
    assert (record.__dict__["rows"], record.__dict__["batches"]) == (5, 3)


async def test_configured_keep_overrides_the_default(db: Database) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 3, sent_at=OLD))
    retention = db.retention(keep={"jobs.outbox": timedelta(days=20)})
    assert retention.keep_for("jobs.outbox") == timedelta(days=20)
    assert retention.keep_for("jobs.inbox") == timedelta(days=7)  # the default
    report = await retention.purge("jobs.outbox")
    assert (report.rows, report.cutoff) == (0, NOW - timedelta(days=20))
    assert db.count(db.outbox.table) == 3
    shorter = db.retention(keep={"jobs.outbox": timedelta(days=9)})
    assert (await shorter.purge("jobs.outbox")).rows == 3


@pytest.mark.parametrize("keep", [timedelta(0), timedelta(seconds=-1)])
def test_keep_overrides_must_be_positive(async_sqlite_engine: AsyncEngine, keep: timedelta) -> None:
    with pytest.raises(ValueError, match=r"keep\['jobs.outbox'\] must be positive"):
        Retention(async_sqlite_engine, keep={"jobs.outbox": keep})


def test_runner_validates_its_arguments(async_sqlite_engine: AsyncEngine) -> None:
    with pytest.raises(TypeError, match=r"keep.*timedelta"):
        Retention(async_sqlite_engine, keep={"jobs.outbox": 3600})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="batch_size"):
        Retention(async_sqlite_engine, batch_size=0)
    with pytest.raises(TypeError, match="AsyncEngine"):
        Retention(create_engine("sqlite://"))  # type: ignore[arg-type]


async def test_a_misspelt_keep_name_fails_the_run(db: Database) -> None:
    retention = db.retention(keep={"jobs.outbx": timedelta(days=1)})
    with pytest.raises(ValueError, match=r"unknown retention targets \['jobs.outbx'\]"):
        await retention.purge("jobs.outbox")


async def test_unknown_name_is_a_one_line_key_error_naming_the_known_ones(db: Database) -> None:
    retention = db.retention()
    assert retention.names == (
        "jobs.outbox",
        "jobs.outbox_acked",
        "jobs.inbox",
        "jobs.idempotency",
        "jobs.dead_letters",
    )
    with pytest.raises(RetentionTargetNotFoundError) as caught:
        await retention.purge("jobs.outbx")
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, SpapsJobsError)
    assert str(caught.value) == (
        "unknown retention target 'jobs.outbx' (known: jobs.outbox, jobs.outbox_acked, "
        "jobs.inbox, jobs.idempotency, jobs.dead_letters)"
    )
    with pytest.raises(RetentionTargetNotFoundError):
        retention.keep_for("nope")


def test_register_refuses_duplicates_and_non_targets(async_sqlite_engine: AsyncEngine) -> None:
    outbox = Outbox(MetaData())
    retention = Retention(async_sqlite_engine)
    retention.register(outbox.retention())
    with pytest.raises(ValueError, match=r"'jobs\.outbox' is already registered"):
        retention.register(Outbox(MetaData()).retention())
    with pytest.raises(ValueError, match="'x' is already registered"):
        retention.register(outbox.retention(name="x"), outbox.retention(name="x"))
    assert retention.names == ("jobs.outbox",)  # nothing of a refused call is kept
    with pytest.raises(TypeError, match="does not satisfy RetentionTarget"):
        retention.register(object())  # type: ignore[arg-type]


def test_target_constructors_validate_keep_and_name() -> None:
    outbox = Outbox(MetaData())
    assert outbox.retention(keep=timedelta(days=2)).default_keep == timedelta(days=2)
    with pytest.raises(ValueError, match="keep must be positive"):
        outbox.retention(keep=timedelta(0))
    with pytest.raises(ValueError, match="name"):
        outbox.retention(name="")


async def test_the_clock_must_be_aware(db: Database) -> None:
    retention = Retention(db.engine, clock=lambda: datetime(2026, 1, 1))
    retention.register(db.outbox.retention())
    with pytest.raises(ValueError, match="timezone-aware"):
        await retention.purge("jobs.outbox")


class FailsOnSecondBatch:
    """The outbox target, except that its second batch fails after deleting its rows."""

    def __init__(self, inner: RetentionTarget) -> None:
        self.inner = inner
        self.name = inner.name
        self.default_keep = inner.default_keep
        self.batches = 0

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        return await self.inner.count_expired(connection, cutoff=cutoff)

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        count = await self.inner.purge_batch(connection, cutoff=cutoff, limit=limit)
        self.batches += 1
        if self.batches == 2:
            raise RuntimeError("disk full")
        return count


async def test_each_batch_commits_or_rolls_back_whole(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 25, sent_at=OLD))
    retention = Retention(db.engine, batch_size=10, clock=clock)
    retention.register(FailsOnSecondBatch(db.outbox.retention()))
    with (
        caplog.at_level(logging.INFO, logger="spaps.retention"),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        await retention.purge("jobs.outbox")
    assert db.count(db.outbox.table) == 15  # the first batch committed, the second did not
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("retention.failed target=jobs.outbox rows=10 batches=1")


async def test_purge_all_reports_every_target_in_order(db: Database) -> None:
    db.seed(db.outbox.table, outbox_rows("old", 3, sent_at=OLD))
    db.seed(db.inbox.table, [{"consumer": "c", "message_id": "m", "processed_at": OLD}])
    reports = await db.retention().purge_all()
    assert [(r.name, r.rows) for r in reports] == [
        ("jobs.outbox", 3),
        ("jobs.outbox_acked", 0),
        ("jobs.inbox", 1),
        ("jobs.idempotency", 0),
        ("jobs.dead_letters", 0),
    ]
    assert db.count(db.outbox.table) == db.count(db.inbox.table) == 0
    dry = await db.retention().purge_all(dry_run=True)
    assert all(r.dry_run and r.rows == 0 for r in dry)


# --- the targets ---------------------------------------------------------------------------


async def test_outbox_with_confirmations_purges_only_confirmed_and_dead_lettered(
    db: Database,
) -> None:
    t = db.acked.table
    db.seed(t, outbox_rows("confirmed", 4, sent_at=OLD, confirmed_at=OLD))
    db.seed(t, outbox_rows("buried", 2, sent_at=OLD, dead_lettered_at=OLD))
    # Never purged, however old: waiting for a confirmation, pending, or never confirmed.
    db.seed(t, outbox_rows("waiting", 3, sent_at=OLD, redeliver_at=OLD + timedelta(minutes=5)))
    db.seed(t, outbox_rows("pending", 2, sent_at=None))
    db.seed(t, outbox_rows("unconfirmed", 1, sent_at=OLD))
    db.seed(t, outbox_rows("confirmed-unsent", 1, sent_at=None, confirmed_at=OLD))
    # Confirmed too recently.
    db.seed(t, outbox_rows("fresh", 2, sent_at=OLD, confirmed_at=RECENT))
    retention = db.retention(batch_size=4)

    assert (await retention.purge("jobs.outbox_acked", dry_run=True)).rows == 6
    report = await retention.purge("jobs.outbox_acked")

    assert (report.rows, report.batches) == (6, 2)
    with db.sync.connect() as conn:
        left = sorted(row.message_id.split("-")[0] for row in conn.execute(select(t)))
    assert (
        left
        == ["confirmed", "fresh", "fresh", "pending", "pending"] + ["unconfirmed"] + ["waiting"] * 3
    )


async def test_inbox_forgets_ids_processed_before_the_cutoff(db: Database) -> None:
    t = db.inbox.table
    old = [
        {"consumer": c, "message_id": f"m{n}", "processed_at": OLD} for c in "ab" for n in range(3)
    ]
    db.seed(t, old)
    db.seed(t, [{"consumer": "a", "message_id": "new", "processed_at": RECENT}])
    retention = db.retention(batch_size=4)  # composite keys, over two batches
    assert (await retention.purge("jobs.inbox", dry_run=True)).rows == 6
    report = await retention.purge("jobs.inbox")
    assert (report.rows, report.batches) == (6, 2)
    with db.sync.connect() as conn:
        assert [tuple(row) for row in conn.execute(select(t.c.consumer, t.c.message_id))] == [
            ("a", "new")
        ]


async def test_idempotency_records_go_after_their_expiry_never_in_flight(db: Database) -> None:
    t = db.dedupe.table

    def record(key: str, *, done: bool, expires: datetime) -> dict[str, Any]:
        result = b'{"s":201}' if done else None
        return {
            "key": key,
            "done": done,
            "fingerprint": "f",
            "result": result,
            "expires_at": expires.timestamp(),
        }

    db.seed(
        t,
        [
            record("stored-expired", done=True, expires=NOW - timedelta(hours=3)),
            record("abandoned-claim", done=False, expires=NOW - timedelta(hours=2)),
            record("stored-live", done=True, expires=NOW + timedelta(hours=20)),
            record("in-flight", done=False, expires=NOW + timedelta(seconds=30)),
            # Expired, but within the hour records are kept past their expiry.
            record("just-expired", done=True, expires=NOW - timedelta(minutes=10)),
        ],
    )
    retention = db.retention()
    assert retention.keep_for("jobs.idempotency") == timedelta(hours=1)
    assert (await retention.purge("jobs.idempotency", dry_run=True)).rows == 2
    assert (await retention.purge("jobs.idempotency")).rows == 2
    with db.sync.connect() as conn:
        left = sorted(conn.execute(select(t.c.key)).scalars())
    assert left == ["in-flight", "just-expired", "stored-live"]
    # The store still replays what was kept.
    await db.dedupe.claim("fresh", 60)
    await db.dedupe.complete("fresh", b"body", ttl=3600)
    assert (await retention.purge("jobs.idempotency")).rows == 0
    record_kept = await db.dedupe.get("fresh")
    assert record_kept is not None
    assert record_kept.result == b"body"


async def test_dead_letters_table_not_created_yet(db: Database) -> None:
    retention = db.retention()
    assert (await retention.purge("jobs.dead_letters", dry_run=True)).rows == 0
    assert (await retention.purge("jobs.dead_letters")).rows == 0


async def test_dead_letters_recorded_before_the_cutoff_go(db: Database) -> None:
    store = db.dead_letters
    for n in range(3):
        store.add(
            task_name="t",
            task_id=f"id-{n}",
            args=[],
            kwargs={},
            error="e",
            traceback="",
            attempts=1,
        )
    t = store.table
    ids = [letter.id for letter in store.list()]
    with db.sync.begin() as conn:
        conn.execute(
            t.update().where(t.c.id.in_(ids[:2])).values(failed_at=NOW - timedelta(days=31))
        )
        conn.execute(t.update().where(t.c.id == ids[2]).values(failed_at=OLD))
    retention = db.retention()
    assert retention.keep_for("jobs.dead_letters") == timedelta(days=30)
    assert (await retention.purge("jobs.dead_letters")).rows == 2
    assert [letter.id for letter in store.list()] == [ids[2]]


def test_targets_satisfy_the_protocol(sqlite_engine: Engine) -> None:
    metadata = MetaData()
    targets = [
        Outbox(metadata).retention(),
        SqlInbox(metadata).retention(),
        SqlDedupeStore(sqlite_engine).retention(),
        DeadLetterStore(sqlite_engine).retention(),
    ]
    for target in targets:
        assert isinstance(target, RetentionTarget)
    assert [(t.name, t.default_keep) for t in targets] == [
        ("jobs.outbox", timedelta(days=7)),
        ("jobs.inbox", timedelta(days=7)),
        ("jobs.idempotency", timedelta(hours=1)),
        ("jobs.dead_letters", timedelta(days=30)),
    ]
