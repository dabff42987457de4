"""``spaps_jobs.settings.RedeliverySettings``: the relay's redelivery as settings fields."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from spaps_jobs import (
    PurgeReport,
    Redelivery,
    RetentionTargetNotFoundError,
    parse_schedules,
    purge_targets,
)
from spaps_jobs.settings import RedeliverySettings, RetentionSettings
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine


class ServiceSettings(RedeliverySettings):
    """A service's own settings beside the mixin's."""

    database_url: str = "sqlite:///app.db"


def test_defaults_are_the_redelivery_defaults() -> None:
    settings = ServiceSettings()
    assert settings.redelivery() == Redelivery()
    assert settings.dead_letter_url is None


def test_fields_make_the_redelivery() -> None:
    settings = ServiceSettings(
        outbox_redeliver_after=30,
        outbox_redeliver_backoff=3,
        outbox_redeliver_max_delay=600,
        outbox_max_publishes=4,
        dead_letter_url="sqlite:///letters.db",
    )
    assert settings.redelivery() == Redelivery(
        after=timedelta(seconds=30), backoff=3.0, max_delay=timedelta(minutes=10), max_publishes=4
    )
    assert settings.dead_letter_url == "sqlite:///letters.db"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"outbox_redeliver_after": 0}, "outbox_redeliver_after"),
        ({"outbox_redeliver_backoff": 0.5}, "outbox_redeliver_backoff"),
        ({"outbox_max_publishes": 0}, "outbox_max_publishes"),
        ({"outbox_max_publishes": 101}, "outbox_max_publishes"),
        (
            {"outbox_redeliver_after": 600, "outbox_redeliver_max_delay": 60},
            "outbox_redeliver_max_delay must be >= outbox_redeliver_after",
        ),
    ],
)
def test_bad_values_are_refused_by_name(values: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceSettings(**values)  # type: ignore[arg-type]


class RetainingSettings(RetentionSettings):
    """A service's own settings beside the retention mixin."""

    database_url: str = "sqlite:///app.db"


def test_retention_defaults_purge_hourly_at_each_targets_default_keep() -> None:
    settings = RetainingSettings()
    assert settings.retention_keep() == {}
    assert settings.retention_batch_size == 1000
    assert settings.retention_schedules(["jobs.outbox", "auth.audit"]) == {
        "retention.jobs.outbox": {
            "task": "spaps.retention.purge", "cron": "17 * * * *", "args": ["jobs.outbox"]
        },
        "retention.auth.audit": {
            "task": "spaps.retention.purge", "cron": "17 * * * *", "args": ["auth.audit"]
        },
    }  # fmt: skip


def test_retention_fields_make_the_keep_and_the_beat_entries() -> None:
    # As a service's environment gives them (pydantic-settings parses the JSON mapping).
    settings = RetainingSettings.model_validate_json(
        '{"retention_keep_days": {"jobs.outbox": 3, "auth.audit": 0.5},'
        ' "retention_cron": "0 3 * * *", "retention_batch_size": "250"}'
    )
    assert settings.retention_keep() == {
        "jobs.outbox": timedelta(days=3), "auth.audit": timedelta(hours=12)
    }  # fmt: skip
    assert settings.retention_batch_size == 250
    entries = settings.retention_schedules(["jobs.inbox"], task_name="svc.purge")
    assert entries == {
        "retention.jobs.inbox": {"task": "svc.purge", "cron": "0 3 * * *", "args": ["jobs.inbox"]}
    }
    # What beat gets is valid for spaps-jobs' own schedule parser.
    assert [s.name for s in parse_schedules(entries)] == ["retention.jobs.inbox"]


def test_an_empty_cron_schedules_nothing() -> None:
    assert RetainingSettings(retention_cron="").retention_schedules(["jobs.outbox"]) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"retention_keep_days": {"jobs.outbox": 0}}, "retention_keep_days"),
        ({"retention_keep_days": {"jobs.outbox": -1}}, "must be positive"),
        ({"retention_cron": "every hour"}, "retention_cron"),
        ({"retention_batch_size": 0}, "retention_batch_size"),
    ],
)
def test_bad_retention_settings_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RetainingSettings(**values)


class _Target:
    """The smallest retention target: nothing ever expires."""

    name = "t.rows"
    default_keep = timedelta(days=7)

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        return 0

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        return 0


async def test_the_settings_build_the_runner() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    settings = RetainingSettings(retention_keep_days={"t.rows": 2}, retention_batch_size=7)
    retention = settings.retention(engine, _Target(), clock=lambda: now)
    try:
        assert retention.names == ("t.rows",)
        assert retention.keep_for("t.rows") == timedelta(days=2)
        assert retention.batch_size == 7
        report = await retention.purge("t.rows", dry_run=True)
        assert report.cutoff == now - timedelta(days=2)
    finally:
        await engine.dispose()


def test_a_report_reads_as_one_line() -> None:
    cutoff = datetime(2026, 12, 1, tzinfo=UTC)
    purged = PurgeReport(name="jobs.outbox", cutoff=cutoff, rows=1200, batches=2, dry_run=False)
    assert purged.summary() == (
        "jobs.outbox: purged 1200 rows in 2 batches (finished before 2026-12-01T00:00:00+00:00)"
    )
    dry = PurgeReport(name="auth.audit", cutoff=cutoff, rows=1, batches=1, dry_run=True)
    assert dry.summary().startswith("auth.audit: would purge 1 row in 1 batch (")


class _Rows:
    """A target over a list: every row is expired; purge_batch takes ``limit`` of them."""

    default_keep = timedelta(days=1)

    def __init__(self, name: str, rows: int) -> None:
        self.name = name
        self.rows = rows

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        return self.rows

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        taken = min(limit, self.rows)
        self.rows -= taken
        return taken


async def test_purge_targets_shows_each_targets_progress() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    first, second = _Rows("t.first", 5), _Rows("t.second", 0)
    retention = RetainingSettings(retention_batch_size=2).retention(engine, first, second)
    seen: list[tuple[str, int, list[int]]] = []

    @contextlib.contextmanager
    def bar(name: str, rows: int) -> Iterator[Callable[[int], None]]:
        batches: list[int] = []
        yield batches.append
        seen.append((name, rows, batches))

    try:
        dry = await purge_targets(retention, dry_run=True, progress=bar)
        assert [(r.name, r.rows, r.dry_run) for r in dry] == [
            ("t.first", 5, True), ("t.second", 0, True)
        ]  # fmt: skip
        assert (seen, first.rows) == ([], 5)  # a dry run shows no bar and writes nothing
        reports = await purge_targets(retention, progress=bar)
        assert [(r.name, r.rows, r.batches) for r in reports] == [
            ("t.first", 5, 3), ("t.second", 0, 0)
        ]  # fmt: skip
        assert seen == [("t.first", 5, [2, 2, 1]), ("t.second", 0, [])]
        first.rows = 3  # without a progress callback: purged all the same
        bare = await purge_targets(retention, ["t.first"])
        assert [(r.name, r.rows, r.batches, r.dry_run) for r in bare] == [("t.first", 3, 2, False)]
        assert first.rows == 0
        with pytest.raises(RetentionTargetNotFoundError, match=r"known: t\.first, t\.second"):
            await purge_targets(retention, ["t.second", "t.third"])
    finally:
        await engine.dispose()
