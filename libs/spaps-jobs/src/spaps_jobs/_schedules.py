"""Beat schedules from configuration, validated when the settings are built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from ._errors import ScheduleError, ScheduleNotFoundError

# Days in each month, with the longest February (leap years).
_DAYS_IN_MONTH = {
    1: 31,
    2: 29,
    3: 31,
    4: 30,
    5: 31,
    6: 30,
    7: 31,
    8: 31,
    9: 30,
    10: 31,
    11: 30,
    12: 31,
}

__all__ = ["Schedule", "parse_schedules", "run_scheduled"]

_KNOWN_KEYS = frozenset({"task", "cron", "every", "args", "kwargs", "queue"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """One periodic task.

    Exactly one of ``cron`` (five fields: minute hour day-of-month month day-of-week,
    UTC) and ``every`` (seconds) is given.

    Args:
        name: Unique name of the entry.
        task: Name of the Celery task to send.
        cron: Crontab expression, e.g. ``"*/15 * * * *"``.
        every: Interval in seconds.
        args: Positional arguments of the task (JSON values).
        kwargs: Keyword arguments of the task (JSON values).
        queue: Queue to send to (default: the app's default queue).
    """

    name: str
    task: str
    cron: str | None = None
    every: float | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    queue: str | None = None

    def __post_init__(self) -> None:
        where = f"schedule {self.name!r}"
        if not isinstance(self.task, str) or not self.task:
            raise ScheduleError(f"{where}: 'task' must be a non-empty task name")
        if (self.cron is None) == (self.every is None):
            raise ScheduleError(f"{where}: give exactly one of 'cron' and 'every'")
        if self.cron is not None:
            self._crontab()
        if self.every is not None and (
            isinstance(self.every, bool)
            or not isinstance(self.every, int | float)
            or self.every <= 0
        ):
            raise ScheduleError(f"{where}: 'every' must be a positive number of seconds")

    def _crontab(self) -> crontab:
        cron = self.cron
        if not isinstance(cron, str) or len(cron.split()) != 5:
            raise ScheduleError(
                f"schedule {self.name!r}: bad cron expression {cron!r}: "
                "expected 5 fields (minute hour day-of-month month day-of-week)"
            )
        try:
            entry = crontab.from_string(cron)
        except (ValueError, KeyError, IndexError) as exc:
            raise ScheduleError(
                f"schedule {self.name!r}: bad cron expression {cron!r}: {exc}"
            ) from exc
        # Celery refuses a date that never occurs (the 31st of February) only from 5.6
        # on; check it here so every supported Celery stops start-up the same way.
        if not any(
            day <= _DAYS_IN_MONTH[month]
            for month in entry.month_of_year
            for day in entry.day_of_month
        ):
            raise ScheduleError(
                f"schedule {self.name!r}: bad cron expression {cron!r}: the day of the month "
                "never occurs in the months given"
            )
        return entry

    def to_beat(self) -> dict[str, Any]:
        """The entry in Celery's ``beat_schedule`` format."""
        schedule: Any = (
            self._crontab() if self.cron is not None else timedelta(seconds=float(self.every or 0))
        )
        entry: dict[str, Any] = {
            "task": self.task,
            "schedule": schedule,
            "args": tuple(self.args),
            "kwargs": dict(self.kwargs),
        }
        if self.queue:
            entry["options"] = {"queue": self.queue}
        return entry


def parse_schedules(config: Mapping[str, Any]) -> tuple[Schedule, ...]:
    """Build :class:`Schedule` entries from plain configuration (TOML/JSON/env).

    Args:
        config: ``{name: {"task": ..., "cron": ... | "every": ..., "args": [...],
            "kwargs": {...}, "queue": ...}}``; values may already be ``Schedule``.

    Raises:
        ScheduleError: An entry is invalid; the message names it.
    """
    if not isinstance(config, Mapping):
        raise ScheduleError("schedules must be a mapping of name -> entry")
    entries = []
    for name, raw in config.items():
        if isinstance(raw, Schedule):
            entries.append(raw)
            continue
        if not isinstance(raw, Mapping):
            raise ScheduleError(f"schedule {name!r}: entry must be a mapping")
        unknown = set(raw) - _KNOWN_KEYS
        if unknown:
            raise ScheduleError(f"schedule {name!r}: unknown keys {sorted(unknown)}")
        entries.append(
            Schedule(
                name=str(name),
                task=raw.get("task", ""),
                cron=raw.get("cron"),
                every=raw.get("every"),
                args=tuple(raw.get("args", ())),
                kwargs=dict(raw.get("kwargs", {})),
                queue=raw.get("queue"),
            )
        )
    return tuple(entries)


def run_scheduled(app: Any, name: str) -> object:
    """Run one entry of ``app.conf.beat_schedule`` now, in this process, and return its
    result (a ``run-scheduled NAME`` command, a catch-up after an outage).

    The entry's task runs eagerly (``task.apply``) with the entry's ``args`` and
    ``kwargs``; nothing goes through the broker.

    Args:
        app: The Celery app (its ``beat_schedule``, e.g. from ``JobsSettings.schedules``).
        name: The entry's name.

    Raises:
        ScheduleNotFoundError: No entry has that name (the message lists the known ones).
        ScheduleError: The entry's task is not registered in ``app``.
        Exception: Whatever the task raised, re-raised.

    .. versionadded:: 0.5.0
    """
    schedule = app.conf.beat_schedule or {}
    entry = schedule.get(name)
    if entry is None:
        known = ", ".join(sorted(schedule)) or "none configured"
        raise ScheduleNotFoundError(f"no schedule named {name!r} (known: {known})")
    task = app.tasks.get(entry["task"])
    if task is None:
        raise ScheduleError(
            f"schedule {name!r}: task {entry['task']!r} is not registered in this app"
        )
    result = task.apply(args=tuple(entry.get("args") or ()), kwargs=dict(entry.get("kwargs") or {}))
    # ``get`` re-raises the task's exception (an eager result holds it).
    return result.get(disable_sync_subtasks=False)
