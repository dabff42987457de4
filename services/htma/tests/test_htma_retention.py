"""Retention in htma: ``htma purge`` (dry run, batches, the audit archive), one beat entry
run now, and beat purging through a real worker process."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from htma.db import OUTBOX, Base
from htma.migrate import MIGRATIONS
from spaps_auth import AuditLog
from spaps_ops.db import open_engine
from spaps_ops.testing import poll
from sqlalchemy import func, insert, select

#: How long a worker with beat may take to start and reach its first purge on a loaded
#: machine (beat's crontab fires on the minute): a hang detector, never a speed limit.
STARTUP = 300.0

AUDIT_LOG = Base.metadata.tables["auth_audit_log"]
AUDIT_ARCHIVE = Base.metadata.tables["auth_audit_archive"]
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)  # past every default keep


async def _rows(database_url: str) -> dict[str, int]:
    """What the tests count: outbox rows, live audit entries, archived ones."""
    async with open_engine(database_url) as engine, engine.connect() as connection:
        outbox = await connection.scalar(select(func.count()).select_from(OUTBOX.table))
        live = await connection.scalar(select(func.count()).select_from(AUDIT_LOG))
        archived = await connection.scalar(select(func.count()).select_from(AUDIT_ARCHIVE))
    return {"outbox": outbox or 0, "audit": live or 0, "archived": archived or 0}


async def _finished_work(database_url: str, *, old: int = 3) -> None:
    """``old`` confirmed outbox messages and audit entries from long ago, and work that
    must stay: a fresh confirmed message, one never confirmed, two fresh audit entries."""
    await MIGRATIONS.upgrade(database_url)

    def row(n: int, *, at: datetime | None, confirmed: datetime | None) -> dict[str, Any]:
        return {"message_id": f"m{n}", "topic": "t", "payload": {}, "headers": {},
                "created_at": at or NOW, "sent_at": at, "confirmed_at": confirmed}  # fmt: skip

    moments = iter([OLD + timedelta(minutes=i) for i in range(old)] + [NOW, NOW])
    async with open_engine(database_url) as engine:
        async with engine.begin() as connection:
            await connection.execute(
                insert(OUTBOX.table),
                [row(i, at=OLD, confirmed=OLD) for i in range(old)]
                + [row(old, at=NOW, confirmed=NOW), row(old + 1, at=OLD, confirmed=None)],
            )
        log = AuditLog(engine, clock=lambda: next(moments))
        for i in range(old + 2):
            await log.append(f"action.{i}", actor="u1")


async def _audit_verifies(database_url: str) -> bool:
    async with open_engine(database_url) as engine:
        live = await AuditLog(engine).verify()
        whole = await AuditLog(engine).verify(include_archive=True)
    return live.ok and whole.ok


@pytest.fixture
def database_env(database_url: str) -> dict[str, str]:
    return {"HTMA_DATABASE_URL": database_url}


async def test_a_dry_run_counts_and_a_purge_removes_only_what_expired(
    htma: Callable[..., subprocess.CompletedProcess[str]],
    database_url: str,
    database_env: dict[str, str],
) -> None:
    await _finished_work(database_url)
    before = await _rows(database_url)
    assert before == {"outbox": 5, "audit": 5, "archived": 0}

    dry = htma("purge", "--dry-run", "jobs.outbox", "auth.audit", env=database_env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith("jobs.outbox: would purge 3 rows in 1 batch ("), dry.stdout
    assert lines[1].startswith("auth.audit: would purge 3 rows in 1 batch ("), dry.stdout
    assert await _rows(database_url) == before  # a dry run writes nothing

    # Batches of 2: three expired rows take two transactions.
    purged = htma("purge", "--quiet", env={**database_env, "HTMA_RETENTION_BATCH_SIZE": "2"})
    assert purged.returncode == 0, purged.stderr
    assert "jobs.outbox: purged 3 rows in 2 batches (" in purged.stdout
    assert "auth.audit: purged 3 rows in 2 batches (" in purged.stdout
    # The fresh message and the one its consumer never confirmed stay; the old audit
    # entries are archived behind a checkpoint and the chain still verifies.
    assert await _rows(database_url) == {"outbox": 2, "audit": 2, "archived": 3}
    assert await _audit_verifies(database_url)

    again = htma("purge", "jobs.outbox", env=database_env)
    assert again.stdout.startswith("jobs.outbox: purged 0 rows in 0 batches ("), again.stdout


async def test_a_configured_keep_overrides_the_default(
    htma: Callable[..., subprocess.CompletedProcess[str]],
    database_url: str,
    database_env: dict[str, str],
) -> None:
    await _finished_work(database_url)
    # Keep the audit log 1000 days: nothing of it is old enough.
    env = {**database_env, "HTMA_RETENTION_KEEP_DAYS": '{"auth.audit": 1000}'}
    result = htma("purge", "auth.audit", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("auth.audit: purged 0 rows"), result.stdout
    assert (await _rows(database_url))["archived"] == 0


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (("purge", "jobs.nothing"), {}, "error: unknown retention target 'jobs.nothing' (known:"),
        (("purge",), {"HTMA_RETENTION_KEEP_DAYS": '{"jobs.outbx": 3}'}, "error: "),
        (("purge",), {"HTMA_RETENTION_KEEP_DAYS": '{"jobs.outbox": -1}'},
         "error: invalid setting retention_keep_days"),
        (("purge",), {"HTMA_RETENTION_CRON": "hourly"}, "error: invalid setting retention_cron"),
    ],
)  # fmt: skip
async def test_bad_input_is_one_line_and_exit_1(
    htma: Callable[..., subprocess.CompletedProcess[str]],
    sqlite_url: str,
    args: tuple[str, ...],
    env: dict[str, str],
    error: str,
) -> None:
    await _finished_work(sqlite_url)
    before = await _rows(sqlite_url)
    result = htma(*args, env={"HTMA_DATABASE_URL": sqlite_url, **env})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error), lines[0]
    assert await _rows(sqlite_url) == before  # nothing lost


def test_purge_refuses_an_unmigrated_database(
    htma: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = htma("purge")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: the database schema is not up to date")


async def test_run_scheduled_purges_one_target_now(
    htma: Callable[..., subprocess.CompletedProcess[str]],
    database_url: str,
    database_env: dict[str, str],
) -> None:
    await _finished_work(database_url)
    result = htma("run-scheduled", "retention.jobs.outbox", env=database_env)
    assert result.returncode == 0, result.stderr
    assert (await _rows(database_url))["outbox"] == 2
    assert (await _rows(database_url))["audit"] == 5  # only the entry named ran


async def _left(database_url: str) -> tuple[set[str], int, int]:
    """The outbox's message ids, the live and the archived audit entries."""
    async with open_engine(database_url) as engine, engine.connect() as connection:
        ids = set((await connection.scalars(select(OUTBOX.table.c.message_id))).all())
        counts = await _rows(database_url)
    return ids, counts["audit"], counts["archived"]


@pytest.mark.postgres
def test_beat_purges_through_a_real_worker_on_postgres(
    start: Callable[..., Any], pg_url: str
) -> None:
    asyncio.run(_finished_work(pg_url))
    ids, live, archived = asyncio.run(_left(pg_url))
    assert ({"m0", "m1", "m2", "m3"} <= ids, live, archived) == (True, 5, 0)
    # Every minute, the shortest crontab, with beat embedded in the worker.
    env = {"HTMA_DATABASE_URL": pg_url, "HTMA_RETENTION_CRON": "* * * * *"}
    worker, log = start("worker", env=env)

    def purged() -> bool:
        ids, live, archived = asyncio.run(_left(pg_url))
        return not ids & {"m0", "m1", "m2"} and (live, archived) == (2, 3)

    poll(lambda: purged() or worker.poll() is not None,
         "beat's purges, run by the worker", deadline=STARTUP)  # fmt: skip
    assert worker.poll() is None, log.read_text()
    ids, _, _ = asyncio.run(_left(pg_url))
    assert "m3" in ids  # the fresh confirmed message stays
    # Each run is logged with its counts.
    poll(lambda: "retention.purged target=auth.audit rows=3" in log.read_text(),
         "the purge's log line", deadline=STARTUP)  # fmt: skip
    assert asyncio.run(_audit_verifies(pg_url))
