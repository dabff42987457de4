"""``install_retention`` registers the purge task; ``run_scheduled`` runs a beat entry now,
in this process, and returns (or raises) what its task does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from spaps_jobs import (
    JobsCelery,
    JobsSettings,
    Outbox,
    Retention,
    RetentionTargetNotFoundError,
    ScheduleError,
    ScheduleNotFoundError,
    SpapsJobsError,
    create_celery_app,
    install_retention,
    run_scheduled,
)
from sqlalchemy import MetaData, create_engine, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

SCHEDULES = {
    "purge-outbox": {"task": "spaps.retention.purge", "every": 3600, "args": ["jobs.outbox"]},
    "purge-typo": {"task": "spaps.retention.purge", "every": 3600, "args": ["jobs.outbx"]},
    "boom": {"task": "t.boom", "cron": "0 3 * * *", "kwargs": {"why": "disk full"}},
    "orphan": {"task": "t.unregistered", "every": 60},
}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Outbox, str]]:
    metadata = MetaData()
    outbox = Outbox(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    metadata.create_all(engine)
    rows = [
        {
            "message_id": f"m{n}",
            "topic": "t",
            "payload": {},
            "headers": {},
            "created_at": NOW - timedelta(days=30),
            "sent_at": NOW - timedelta(days=30) if n < 5 else None,
            "attempts": 0,
        }
        for n in range(7)
    ]
    with engine.begin() as conn:
        conn.execute(insert(outbox.table), rows)
    yield engine, outbox, f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    engine.dispose()


@pytest.fixture
def app(database: tuple[Engine, Outbox, str]) -> JobsCelery:
    _, outbox, url = database
    app = create_celery_app(
        JobsSettings(
            broker_url="memory://",
            result_backend=None,
            dead_letter_url=None,
            schedules=SCHEDULES,
        ),
        registry=CollectorRegistry(),
    )

    @contextlib.asynccontextmanager
    async def open_retention() -> AsyncIterator[Retention]:
        # A new engine per run: each run of the task has its own event loop.
        engine = create_async_engine(url)
        try:
            retention = Retention(engine, clock=lambda: NOW)
            retention.register(outbox.retention())
            yield retention
        finally:
            await engine.dispose()

    install_retention(app, open_retention)

    @app.task(name="t.boom", shared=False)
    def boom(why: str) -> None:
        raise OSError(why)

    return app


def _outbox_rows(engine: Engine, outbox: Outbox) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox.table)).scalar_one())


def test_install_retention_registers_the_task_in_its_app_only(app: JobsCelery) -> None:
    assert "spaps.retention.purge" in app.tasks
    other = create_celery_app(
        JobsSettings(broker_url="memory://", result_backend=None, dead_letter_url=None),
        registry=CollectorRegistry(),
    )
    assert "spaps.retention.purge" not in other.tasks


def test_run_scheduled_runs_the_purge_and_returns_its_report(
    app: JobsCelery, database: tuple[Engine, Outbox, str]
) -> None:
    engine, outbox, _ = database
    result = run_scheduled(app, "purge-outbox")
    assert result == {
        "name": "jobs.outbox",
        "rows": 5,
        "batches": 1,
        "dry_run": False,
        "cutoff": (NOW - timedelta(days=7)).isoformat(),
    }
    assert _outbox_rows(engine, outbox) == 2  # the pending ones
    again = run_scheduled(app, "purge-outbox")
    assert isinstance(again, dict)
    assert again["rows"] == 0


def test_unknown_schedule_names_the_known_ones(app: JobsCelery) -> None:
    with pytest.raises(ScheduleNotFoundError) as caught:
        run_scheduled(app, "purge-outbx")
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, SpapsJobsError)
    assert str(caught.value) == (
        "no schedule named 'purge-outbx' (known: boom, orphan, purge-outbox, purge-typo)"
    )


def test_no_schedules_at_all() -> None:
    app = create_celery_app(
        JobsSettings(broker_url="memory://", result_backend=None, dead_letter_url=None),
        registry=CollectorRegistry(),
    )
    with pytest.raises(ScheduleNotFoundError, match=r"\(known: none configured\)"):
        run_scheduled(app, "anything")


def test_the_tasks_failure_is_raised(app: JobsCelery) -> None:
    with pytest.raises(OSError, match="disk full"):
        run_scheduled(app, "boom")
    with pytest.raises(
        RetentionTargetNotFoundError, match=r"'jobs\.outbx' \(known: jobs\.outbox\)"
    ):
        run_scheduled(app, "purge-typo")


def test_an_entry_whose_task_is_not_registered(app: JobsCelery) -> None:
    with pytest.raises(ScheduleError, match=r"'t\.unregistered' is not registered"):
        run_scheduled(app, "orphan")


def test_install_retention_validates(app: JobsCelery) -> None:
    with pytest.raises(TypeError, match="Celery app"):
        install_retention(object(), contextlib.nullcontext)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="task_name"):
        install_retention(app, contextlib.nullcontext, task_name="")  # type: ignore[arg-type]
