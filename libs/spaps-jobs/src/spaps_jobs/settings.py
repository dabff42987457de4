"""Outbox redelivery and retention settings for a service's pydantic settings class.

Needs the ``settings`` extra (``pip install 'spaps-jobs[settings]'``, which installs
pydantic). :class:`RedeliverySettings` is a mixin: a service's settings class inherits it
beside its own base (e.g. spaps-ops' ``OpsSettings``), so every service configures the
relay's end-to-end acknowledgement with the same variables under its own prefix::

    class Settings(OpsSettings, RedeliverySettings):
        model_config = SettingsConfigDict(env_prefix="MYSVC_")

    relay = Relay(..., redelivery=Settings().redelivery())

:class:`RetentionSettings` does the same for retention: how long each target keeps its
finished rows, how often beat purges them and in what batches.

.. versionadded:: 0.4.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from ._redelivery import Redelivery
from ._retention import Retention, RetentionTarget
from ._schedules import parse_schedules

__all__ = ["RedeliverySettings", "RetentionSettings"]


class RedeliverySettings(BaseModel):
    """When the outbox relay publishes an unconfirmed message again, and where it gives up.

    Args:
        dead_letter_url: SQLAlchemy URL (synchronous driver) of the dead-letter store;
            unset: the service's own database, whose migrations create the
            ``spaps_dead_letters`` table (so its role needs no ``CREATE``).
        outbox_redeliver_after: seconds the outbox relay waits for a consumer to confirm
            a published message before publishing it again.
        outbox_redeliver_backoff: factor by which each further wait grows.
        outbox_redeliver_max_delay: longest wait, in seconds (at least
            ``outbox_redeliver_after``).
        outbox_max_publishes: publishes of one message in all; one still unconfirmed
            after the last is moved to the dead-letter store.

    .. versionadded:: 0.4.0
    """

    dead_letter_url: str | None = None
    outbox_redeliver_after: float = Field(default=300.0, gt=0)
    outbox_redeliver_backoff: float = Field(default=2.0, ge=1)
    outbox_redeliver_max_delay: float = Field(default=3600.0, gt=0)
    outbox_max_publishes: int = Field(default=6, ge=1, le=100)

    @model_validator(mode="after")
    def _redelivery_bounds(self) -> Self:
        if self.outbox_redeliver_max_delay < self.outbox_redeliver_after:
            raise ValueError("outbox_redeliver_max_delay must be >= outbox_redeliver_after")
        return self

    def redelivery(self) -> Redelivery:
        """The :class:`~spaps_jobs.Redelivery` these settings describe."""
        return Redelivery(
            after=timedelta(seconds=self.outbox_redeliver_after),
            backoff=self.outbox_redeliver_backoff,
            max_delay=timedelta(seconds=self.outbox_redeliver_max_delay),
            max_publishes=self.outbox_max_publishes,
        )


class RetentionSettings(BaseModel):
    """How long retention targets keep their finished rows, and when beat purges them.

    Args:
        retention_keep_days: per target name (``"jobs.outbox"``...), days to keep its
            finished rows instead of the target's default; as an environment variable,
            JSON: ``{"jobs.outbox": 3, "auth.audit": 730}``.
        retention_cron: when beat purges each registered target (crontab, UTC, five
            fields); empty: beat purges nothing (run ``purge`` by hand).
        retention_batch_size: rows per batch, each batch its own transaction.

    .. versionadded:: 0.5.0
    """

    retention_keep_days: dict[str, float] = Field(default_factory=dict)
    retention_cron: str = "17 * * * *"
    retention_batch_size: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("retention_keep_days")
    @classmethod
    def _positive_days(cls, value: dict[str, float]) -> dict[str, float]:
        for name, days in value.items():
            if not days > 0:
                raise ValueError(f"retention_keep_days[{name!r}] must be positive, got {days}")
        return value

    @field_validator("retention_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if value.strip():
            parse_schedules({"retention": {"task": "retention", "cron": value}})
        return value.strip()

    def retention(
        self,
        engine: AsyncEngine,
        *targets: RetentionTarget,
        clock: Callable[[], datetime] | None = None,
    ) -> Retention:
        """A :class:`~spaps_jobs.Retention` on ``engine`` with these keeps and batch size,
        ``targets`` registered (``clock``: the runner's, for tests)."""
        retention = Retention(
            engine,
            keep=self.retention_keep(),
            batch_size=self.retention_batch_size,
            **({"clock": clock} if clock is not None else {}),
        )
        retention.register(*targets)
        return retention

    def retention_keep(self) -> dict[str, timedelta]:
        """The ``keep`` mapping of :class:`~spaps_jobs.Retention`."""
        return {name: timedelta(days=days) for name, days in self.retention_keep_days.items()}

    def retention_schedules(
        self, names: Iterable[str], *, task_name: str = "spaps.retention.purge"
    ) -> dict[str, dict[str, Any]]:
        """Beat entries (the ``schedules`` setting's format) that purge each of ``names``
        at ``retention_cron``, named ``retention.<name>``; none when the cron is empty."""
        if not self.retention_cron:
            return {}
        return {
            f"retention.{name}": {"task": task_name, "cron": self.retention_cron, "args": [name]}
            for name in names
        }
