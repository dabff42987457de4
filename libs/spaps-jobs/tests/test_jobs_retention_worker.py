"""Beat, configured through the ``schedules`` setting, sends ``spaps.retention.purge`` to
a real worker process, which purges the outbox in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from spaps_jobs import Outbox
from spaps_jobs.testing import wait_for
from sqlalchemy import MetaData, create_engine, func, insert, select

if TYPE_CHECKING:  # the fixture's class, for annotations only
    from conftest import WorkerFactory

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def test_beat_runs_the_purge_task_on_a_worker_and_old_sent_rows_go(
    redis_workers: WorkerFactory, postgres_url: str
) -> None:
    outbox = Outbox(MetaData())
    t = outbox.table
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    outbox.metadata.create_all(engine)
    now = datetime.now(UTC)

    def rows(prefix: str, count: int, sent_at: datetime | None) -> list[dict[str, object]]:
        return [
            {
                "message_id": f"{prefix}-{n}",
                "topic": "t",
                "payload": {},
                "headers": {},
                "created_at": now - timedelta(days=40),
                "sent_at": sent_at,
                "attempts": 0,
            }
            for n in range(count)
        ]

    with engine.begin() as conn:
        conn.execute(insert(t), rows("old", 30, now - timedelta(days=30)))
        conn.execute(insert(t), rows("pending", 4, None))
        conn.execute(insert(t), rows("recent", 3, now - timedelta(days=1)))

    def count(*where: Any) -> int:
        with engine.connect() as conn:
            query = select(func.count()).select_from(t).where(*where)
            return int(conn.execute(query).scalar_one())

    database = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    worker = redis_workers.start("spaps_jobs_retention_app", SPAPS_TEST_RETENTION_DB=database)
    beat = redis_workers.start_beat("spaps_jobs_retention_app", SPAPS_TEST_RETENTION_DB=database)

    wait_for(lambda: count(t.c.message_id.like("old-%")) == 0, timeout=60, what="the purge")
    assert count(t.c.sent_at.is_(None)) == 4
    assert count(t.c.message_id.like("recent-%")) == 3
    wait_for(
        lambda: "retention.purged target=jobs.outbox rows=30 batches=1" in worker.log(),
        timeout=30,
        what="the purge's log line",
    )
    assert "Sending due task purge-outbox (spaps.retention.purge)" in beat.log()
    engine.dispose()
