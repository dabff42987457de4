"""Retention: purge finished rows in batches, from a registry of targets.

Libraries cooperate through :class:`RetentionTarget`, a protocol they satisfy
structurally: a library declares its targets as plain objects and never imports
spaps-jobs. :class:`Retention` holds the registry, runs a target batch after batch (one
transaction each) and reports; ``_retention_task.install_retention`` makes that a Celery
task that beat runs from the ``schedules`` setting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ._errors import RetentionTargetNotFoundError

__all__ = ["Progress", "PurgeReport", "Retention", "RetentionTarget"]

_log = logging.getLogger("spaps.retention")

Progress = Callable[[int], None]
"""Called with the number of rows of each committed batch (e.g. to advance a progress bar)."""


@runtime_checkable
class RetentionTarget(Protocol):
    """Rows of one table (or a few) that are finished and may go after a while.

    A library satisfies this structurally, without importing spaps-jobs. Only finished
    rows are expired: pending work is never a target's business.

    .. versionadded:: 0.5.0
    """

    @property
    def name(self) -> str:
        """Dotted, stable name (``"jobs.outbox"``); configuration refers to it."""

    @property
    def default_keep(self) -> timedelta:
        """How long finished rows are kept unless configured otherwise."""

    async def count_expired(self, connection: AsyncConnection, *, cutoff: datetime) -> int:
        """How many rows :meth:`purge_batch` would act on in all; writes nothing."""

    async def purge_batch(
        self, connection: AsyncConnection, *, cutoff: datetime, limit: int
    ) -> int:
        """Act on at most ``limit`` rows finished before ``cutoff`` (aware UTC), oldest
        first; return how many. Runs in the transaction the runner opened for it."""


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one run of a target did (or, for a dry run, would do).

    Args:
        name: The target.
        cutoff: Rows finished before this instant (aware UTC) were expired.
        rows: Rows purged (dry run: rows that would be).
        batches: Committed batches that purged rows (dry run: batches it would take).
        dry_run: Whether nothing was written.

    .. versionadded:: 0.5.0
    """

    name: str
    cutoff: datetime
    rows: int
    batches: int
    dry_run: bool

    def summary(self) -> str:
        """One line for a person: ``jobs.outbox: purged 1200 rows in 2 batches (finished
        before 2026-12-01T00:00:00+00:00)``; a dry run says ``would purge``."""
        verb = "would purge" if self.dry_run else "purged"
        batches = f"{self.batches} batch{'es' if self.batches != 1 else ''}"
        rows = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        before = self.cutoff.isoformat()
        return f"{self.name}: {verb} {rows} in {batches} (finished before {before})"

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON values (the Celery task's result)."""
        return {
            "name": self.name,
            "rows": self.rows,
            "batches": self.batches,
            "dry_run": self.dry_run,
            "cutoff": self.cutoff.isoformat(),
        }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_keep(what: str, keep: object) -> timedelta:
    if not isinstance(keep, timedelta):
        raise TypeError(f"{what} must be a timedelta, not {type(keep).__name__}")
    if keep <= timedelta(0):
        raise ValueError(f"{what} must be positive, got {keep}")
    return keep


class Retention:
    """The registry of retention targets and the runner that purges them.

    Each batch runs in its own transaction (``async with engine.begin()``): a batch
    commits or rolls back whole, and a long purge never holds one huge transaction.

    Args:
        engine: The database the targets live in.
        keep: Per target name, how long to keep its finished rows instead of its
            ``default_keep`` (each must be a positive ``timedelta``).
        batch_size: Rows per batch (per transaction).
        clock: Current time, timezone-aware (default: ``datetime.now(UTC)``); inject
            one in tests.

    Raises:
        ValueError: A ``keep`` value is zero or negative, or ``batch_size`` is not
            positive.

    .. versionadded:: 0.5.0
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        keep: Mapping[str, timedelta] | None = None,
        batch_size: int = 1000,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not isinstance(engine, AsyncEngine):
            raise TypeError("engine must be a sqlalchemy AsyncEngine")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer")
        if not callable(clock):
            raise TypeError("clock must be callable")
        self.engine = engine
        self.keep = {
            str(name): _check_keep(f"keep[{name!r}]", value) for name, value in (keep or {}).items()
        }
        self.batch_size = batch_size
        self.clock = clock
        self._targets: dict[str, RetentionTarget] = {}

    def register(self, *targets: RetentionTarget) -> None:
        """Add targets to the registry.

        Raises:
            ValueError: A name is already registered (or repeated), or a target's
                ``default_keep`` is not positive.
            TypeError: An object does not satisfy :class:`RetentionTarget`.
        """
        staged: dict[str, RetentionTarget] = {}
        for target in targets:
            if not isinstance(target, RetentionTarget):
                raise TypeError(f"{target!r} does not satisfy RetentionTarget")
            name = target.name
            if not isinstance(name, str) or not name:
                raise ValueError(f"{target!r}: name must be a non-empty string")
            if name in self._targets or name in staged:
                raise ValueError(f"a retention target named {name!r} is already registered")
            _check_keep(f"{name}: default_keep", target.default_keep)
            staged[name] = target
        self._targets.update(staged)

    @property
    def names(self) -> tuple[str, ...]:
        """Registered target names, in registration order."""
        return tuple(self._targets)

    def _target(self, name: str) -> RetentionTarget:
        target = self._targets.get(name)
        if target is None:
            known = ", ".join(self._targets) or "none registered"
            raise RetentionTargetNotFoundError(
                f"unknown retention target {name!r} (known: {known})"
            )
        return target

    def keep_for(self, name: str) -> timedelta:
        """How long ``name``'s finished rows are kept: the configured value, else the
        target's ``default_keep``.

        Raises:
            RetentionTargetNotFoundError: No target has that name.
        """
        target = self._target(name)
        return self.keep.get(name, target.default_keep)

    def _cutoff(self, name: str) -> datetime:
        now = self.clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise ValueError("clock must return a timezone-aware datetime")
        # UTC: SQLite stores datetimes as text without an offset, in UTC.
        return (now - self.keep_for(name)).astimezone(UTC)

    def _check_configured_names(self) -> None:
        # A misspelt name in configuration would otherwise keep rows at the default.
        unknown = sorted(set(self.keep) - set(self._targets))
        if unknown:
            known = ", ".join(self._targets) or "none registered"
            raise ValueError(f"keep names unknown retention targets {unknown} (known: {known})")

    async def purge(
        self, name: str, *, dry_run: bool = False, progress: Progress | None = None
    ) -> PurgeReport:
        """Purge ``name``'s rows finished before ``now - keep_for(name)``.

        Batches of ``batch_size`` rows, each in its own transaction, until a batch acts
        on fewer. Logs one line per run on the ``spaps.retention`` logger
        (``retention.purged``, ``retention.dry_run``, or ``retention.failed`` before
        the error propagates; batches committed before a failure stay committed).

        Args:
            name: A registered target name.
            dry_run: Count the expired rows without writing anything.
            progress: Called with the row count of each committed batch.

        Raises:
            RetentionTargetNotFoundError: No target has that name (the message lists
                the known ones).
            ValueError: ``keep`` names a target that is not registered.
        """
        target = self._target(name)
        self._check_configured_names()
        cutoff = self._cutoff(name)
        if dry_run:
            async with self.engine.connect() as connection:
                rows = int(await target.count_expired(connection, cutoff=cutoff))
            report = PurgeReport(name, cutoff, rows, math.ceil(rows / self.batch_size), True)
            self._log("retention.dry_run", report)
            return report
        rows = batches = 0
        try:
            while True:
                async with self.engine.begin() as connection:
                    count = int(
                        await target.purge_batch(connection, cutoff=cutoff, limit=self.batch_size)
                    )
                if count > 0:
                    rows += count
                    batches += 1
                    if progress is not None:
                        progress(count)
                if count < self.batch_size:
                    break
        except Exception:
            self._log("retention.failed", PurgeReport(name, cutoff, rows, batches, False))
            raise
        report = PurgeReport(name, cutoff, rows, batches, False)
        self._log("retention.purged", report)
        return report

    async def purge_all(self, *, dry_run: bool = False) -> list[PurgeReport]:
        """:meth:`purge` every registered target, in registration order.

        The first failure propagates (the targets before it are purged).
        """
        self._check_configured_names()
        return [await self.purge(name, dry_run=dry_run) for name in self._targets]

    @staticmethod
    def _log(event: str, report: PurgeReport) -> None:
        level = logging.WARNING if event == "retention.failed" else logging.INFO
        _log.log(
            level,
            "%s target=%s rows=%d batches=%d cutoff=%s",
            event,
            report.name,
            report.rows,
            report.batches,
            report.cutoff.isoformat(),
            # ("name" would clash with the LogRecord attribute.)
            extra={
                "event": event,
                "target": report.name,
                "rows": report.rows,
                "batches": report.batches,
                "cutoff": report.cutoff.isoformat(),
                "dry_run": report.dry_run,
            },
        )
