"""Dead-letter store: tasks that failed for good, kept for inspection and requeue."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ._ddl import create_table
from ._errors import DeadLetterNotFoundError
from ._retention import RetentionTarget
from ._retention_targets import DEAD_LETTERS_KEEP, TableRetention, check_target_args

__all__ = ["DeadLetter", "DeadLetterStore"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A task that failed after its last attempt.

    Args:
        id: Row id in the store.
        task_name: Celery task name.
        task_id: Celery task id of the failed run.
        args: Positional arguments.
        kwargs: Keyword arguments.
        headers: The ``spaps_*`` headers of the message (message id, request id, ...).
        queue: Queue it was delivered from, if known.
        error: ``repr`` of the exception.
        traceback: Formatted traceback.
        attempts: How many times it ran.
        failed_at: When it was dead-lettered.
        requeued_at: When it was last requeued, if ever.
    """

    id: int
    task_name: str
    task_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    headers: dict[str, Any]
    queue: str | None
    error: str
    traceback: str
    attempts: int
    failed_at: datetime
    requeued_at: datetime | None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


class DeadLetterStore:
    """Dead letters in a SQL table.

    Args:
        engine: Synchronous engine of the database that keeps them.
        table_name: Table name.
        metadata: Define the table on this ``MetaData`` (default: a private one).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table_name: str = "spaps_dead_letters",
        metadata: MetaData | None = None,
    ) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("engine must be a synchronous sqlalchemy Engine")
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("table_name must be a non-empty string")
        self.engine = engine
        self.metadata = metadata if metadata is not None else MetaData()
        self.table = Table(
            table_name,
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("task_name", String(255), nullable=False, index=True),
            Column("task_id", String(255), nullable=False),
            Column("args", JSON, nullable=False),
            Column("kwargs", JSON, nullable=False),
            Column("headers", JSON, nullable=False),
            Column("queue", String(255), nullable=True),
            Column("error", Text, nullable=False),
            Column("traceback", Text, nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("failed_at", DateTime(timezone=True), nullable=False),
            Column("requeued_at", DateTime(timezone=True), nullable=True),
        )
        self._created = False

    def create_table(self) -> None:
        """Create the table if it does not exist.

        Safe when several processes call it at once (workers failing their first tasks
        together, a worker and the CLI).
        """
        create_table(self.table, self.engine)
        self._created = True

    def retention(
        self, *, keep: timedelta | None = None, name: str = "jobs.dead_letters"
    ) -> RetentionTarget:
        """The retention target of old dead letters (for :class:`~spaps_jobs.Retention`).

        A dead letter expires ``keep`` after it was recorded, requeued or not. The
        :class:`~spaps_jobs.Retention` must run on this store's database; until the
        first dead letter creates the table there is nothing to purge.

        Args:
            keep: How long dead letters are kept by default (default: 30 days).
            name: The target's name.

        .. versionadded:: 0.5.0
        """
        keep = check_target_args(name, keep, DEAD_LETTERS_KEEP)
        t = self.table
        return TableRetention(
            name=name,
            default_keep=keep,
            table=t,
            expired=lambda cutoff: [t.c.failed_at < cutoff],
            order_by=[t.c.failed_at],
            optional=True,
        )

    def add(
        self,
        *,
        task_name: str,
        task_id: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        error: str,
        traceback: str,
        attempts: int,
        headers: Mapping[str, Any] | None = None,
        queue: str | None = None,
    ) -> int:
        """Store a dead letter; return its id."""
        if not self._created:
            self.create_table()
        values = {
            "task_name": task_name,
            "task_id": task_id,
            # Keep the shapes (a list, dicts); a value JSON cannot hold is kept as text.
            "args": [_jsonable(value) for value in args],
            "kwargs": {str(name): _jsonable(value) for name, value in kwargs.items()},
            "headers": {str(name): _jsonable(value) for name, value in (headers or {}).items()},
            "queue": queue,
            "error": error,
            "traceback": traceback,
            "attempts": attempts,
            "failed_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            key = conn.execute(insert(self.table).values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def _letter(self, row: Any) -> DeadLetter:
        return DeadLetter(
            id=row.id,
            task_name=row.task_name,
            task_id=row.task_id,
            args=list(row.args),
            kwargs=dict(row.kwargs),
            headers=dict(row.headers),
            queue=row.queue,
            error=row.error,
            traceback=row.traceback,
            attempts=row.attempts,
            failed_at=row.failed_at,
            requeued_at=row.requeued_at,
        )

    def list(
        self, *, limit: int = 50, task_name: str | None = None, include_requeued: bool = False
    ) -> list[DeadLetter]:
        """Newest dead letters first.

        Args:
            limit: At most this many.
            task_name: Only this task.
            include_requeued: Also those already requeued.
        """
        if not self._created:
            self.create_table()
        t = self.table
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if task_name is not None:
            query = query.where(t.c.task_name == task_name)
        if not include_requeued:
            query = query.where(t.c.requeued_at.is_(None))
        with self.engine.connect() as conn:
            return [self._letter(row) for row in conn.execute(query)]

    def get(self, letter_id: int) -> DeadLetter:
        """One dead letter.

        Raises:
            DeadLetterNotFoundError: No such id.
        """
        if not self._created:
            self.create_table()
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id == letter_id)).first()
        if row is None:
            raise DeadLetterNotFoundError(f"no dead letter with id {letter_id}")
        return self._letter(row)

    def requeue(self, letter_id: int, app: Any) -> str:
        """Send the task again (fresh attempts, same arguments and ``spaps_*`` headers).

        Args:
            letter_id: Id of the dead letter.
            app: The Celery app to send with.

        Returns:
            The new task id.
        """
        letter = self.get(letter_id)
        options: dict[str, Any] = {}
        if letter.queue:
            options["queue"] = letter.queue
        result = app.send_task(
            letter.task_name,
            args=letter.args,
            kwargs=letter.kwargs,
            headers=dict(letter.headers),
            **options,
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == letter_id)
                .values(requeued_at=datetime.now(UTC))
            )
        return str(result.id)
