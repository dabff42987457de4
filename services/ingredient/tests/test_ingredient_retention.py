"""Retention in ingredient: ``ingredient purge`` (dry run, batches, bad input), one beat
entry run now, and the worker's beat purging through a real worker process."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ingredient.db import OUTBOX
from ingredient.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from spaps_ops.testing import DEADLINE, poll
from sqlalchemy import insert, select

Run = Callable[..., subprocess.CompletedProcess[str]]
StartWorker = Callable[[dict[str, str]], tuple[subprocess.Popen[bytes], Path]]

#: How long the worker may take to start and reach its first purge on a loaded machine
#: (beat's crontab fires on the minute): a hang detector, never a speed limit.
STARTUP = 300.0

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)  # past every default keep
GONE = {"m0", "m1", "m2"}  # confirmed long ago
KEPT = {"m3", "m4"}  # confirmed now; sent long ago and never confirmed


@pytest.fixture
def ingredient(run_command: Run, tmp_path: Path) -> Run:
    """``ingredient(*args, env=None)``: the command run to completion in ``tmp_path``."""
    return functools.partial(run_command, "ingredient.cli", cwd=tmp_path)


async def _finished_work(database_url: str) -> None:
    await MIGRATIONS.upgrade(database_url)

    def row(n: int, *, sent: datetime, confirmed: datetime | None) -> dict[str, Any]:
        return {"message_id": f"m{n}", "topic": "t", "payload": {}, "headers": {},
                "created_at": sent, "sent_at": sent, "confirmed_at": confirmed}  # fmt: skip

    rows = [row(i, sent=OLD, confirmed=OLD) for i in range(3)]
    rows += [row(3, sent=NOW, confirmed=NOW), row(4, sent=OLD, confirmed=None)]
    async with open_engine(database_url) as engine, engine.begin() as connection:
        await connection.execute(insert(OUTBOX.table), rows)


async def _outbox(database_url: str) -> set[str]:
    async with open_engine(database_url) as engine, engine.connect() as connection:
        return set((await connection.scalars(select(OUTBOX.table.c.message_id))).all())


async def test_a_dry_run_counts_and_a_purge_removes_only_what_expired(
    ingredient: Run, database_url: str
) -> None:
    await _finished_work(database_url)
    env = {"INGREDIENT_DATABASE_URL": database_url}
    dry = ingredient("purge", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("jobs.outbox: would purge 3 rows in 1 batch ("), dry.stdout
    assert len(dry.stdout.splitlines()) == 4  # outbox, deliveries, messages, dead letters
    assert await _outbox(database_url) == GONE | KEPT  # a dry run writes nothing

    batched = {**env, "INGREDIENT_RETENTION_BATCH_SIZE": "2"}
    purged = ingredient("purge", "--quiet", "jobs.outbox", env=batched)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("jobs.outbox: purged 3 rows in 2 batches ("), purged.stdout
    assert await _outbox(database_url) == KEPT


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (("purge", "jobs.nothing"), {}, "error: unknown retention target 'jobs.nothing' (known:"),
        (("purge",), {"INGREDIENT_RETENTION_KEEP_DAYS": '{"jobs.outbx": 3}'},
         "error: keep names unknown retention targets ['jobs.outbx']"),
        (("purge",), {"INGREDIENT_RETENTION_KEEP_DAYS": '{"jobs.outbox": 0}'},
         "error: invalid setting retention_keep_days"),
        (("worker",), {"INGREDIENT_RETENTION_CRON": "61 * * * *"},
         "error: invalid setting retention_cron"),
    ],
)  # fmt: skip
async def test_bad_input_is_one_line_and_exit_1(
    ingredient: Run, sqlite_url: str, args: tuple[str, ...], env: dict[str, str], error: str
) -> None:
    await _finished_work(sqlite_url)
    result = ingredient(*args, env={"INGREDIENT_DATABASE_URL": sqlite_url, **env})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(error), lines[0]
    assert await _outbox(sqlite_url) == GONE | KEPT  # nothing lost


async def test_run_scheduled_purges_one_target_now(ingredient: Run, database_url: str) -> None:
    await _finished_work(database_url)
    env = {"INGREDIENT_DATABASE_URL": database_url}
    result = ingredient("run-scheduled", "retention.jobs.outbox", env=env)
    assert result.returncode == 0, result.stderr
    assert await _outbox(database_url) == KEPT


@pytest.fixture
def worker(
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, str]], tuple[subprocess.Popen[bytes], Path]]]:
    """``worker(env)``: ``ingredient worker`` running in ``tmp_path`` on a SQLite broker,
    its output in a file; stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    base = {k: v for k, v in os.environ.items() if not k.startswith("INGREDIENT_")}

    def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "ingredient.cli", "worker"],
                cwd=tmp_path, env={**base, **env}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(process)
        return process, log

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(DEADLINE)


@pytest.mark.postgres
def test_beat_purges_through_a_real_worker_on_postgres(worker: StartWorker, pg_url: str) -> None:
    asyncio.run(_finished_work(pg_url))
    assert asyncio.run(_outbox(pg_url)) == GONE | KEPT
    # Every minute, the shortest crontab.
    process, log = worker(
        {"INGREDIENT_DATABASE_URL": pg_url, "INGREDIENT_RETENTION_CRON": "* * * * *"}
    )
    poll(lambda: not asyncio.run(_outbox(pg_url)) & GONE or process.poll() is not None,
         "beat's purge, run by the worker", deadline=STARTUP)  # fmt: skip
    assert process.poll() is None, log.read_text()
    assert asyncio.run(_outbox(pg_url)) == KEPT
    poll(lambda: "retention.purged target=jobs.outbox rows=3" in log.read_text(),
         "the purge's log line", deadline=STARTUP)  # fmt: skip
