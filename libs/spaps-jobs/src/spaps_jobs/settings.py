"""Outbox redelivery settings for a service's pydantic settings class.

Needs the ``settings`` extra (``pip install 'spaps-jobs[settings]'``, which installs
pydantic). :class:`RedeliverySettings` is a mixin: a service's settings class inherits it
beside its own base (e.g. spaps-ops' ``OpsSettings``), so every service configures the
relay's end-to-end acknowledgement with the same variables under its own prefix::

    class Settings(OpsSettings, RedeliverySettings):
        model_config = SettingsConfigDict(env_prefix="MYSVC_")

    relay = Relay(..., redelivery=Settings().redelivery())

.. versionadded:: 0.4.0
"""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import BaseModel, Field, model_validator

from ._redelivery import Redelivery

__all__ = ["RedeliverySettings"]


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
