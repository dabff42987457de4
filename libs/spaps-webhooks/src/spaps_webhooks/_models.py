"""Read models returned by the services, the deliverer and the router."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


def new_id(prefix: str) -> str:
    """A random, URL-safe id with a type prefix, e.g. ``ep_2b9...``."""
    return f"{prefix}_{secrets.token_hex(12)}"


class Endpoint(BaseModel):
    """A registered endpoint (never includes its secret)."""

    model_config = ConfigDict(frozen=True)

    id: str
    owner: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    rotating_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Endpoint:
        """Build from an endpoints table row."""
        return cls(
            id=row.id,
            owner=row.owner,
            url=row.url,
            description=row.description,
            event_types=list(row.event_types or []),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            rotating_until=row.previous_secret_expires_at if row.previous_secret else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class EndpointWithSecret(Endpoint):
    """An endpoint right after creation or rotation: the only time the secret is shown."""

    secret: str


class Attempt(BaseModel):
    """One logged delivery attempt."""

    model_config = ConfigDict(frozen=True)

    id: int
    delivery_id: str
    message_id: str
    endpoint_id: str
    number: int
    started_at: datetime
    status_code: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None
    succeeded: bool

    @classmethod
    def from_row(cls, row: Any) -> Attempt:
        """Build from an attempts table row."""
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})


class Delivery(BaseModel):
    """The state of one message's delivery to one endpoint."""

    model_config = ConfigDict(frozen=True)

    id: str
    message_id: str
    endpoint_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        """Build from a deliveries table row."""
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})


class FireResult(BaseModel):
    """What test-fire did: the message sent and the attempt it made."""

    message_id: str
    delivery: Delivery
    attempt: Attempt | None


EndpointDisabledHook = Callable[[Endpoint, str], None]
"""Called with the endpoint and the reason after an endpoint was disabled automatically."""


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What :meth:`Deliverer.attempt` did.

    Attributes:
        delivery_id: The delivery.
        status: ``succeeded``, ``retrying``, ``failed``, ``cancelled`` or ``skipped``
            (not due, or another worker holds it).
        retry_in: Seconds until the next attempt when ``retrying``.
        attempt: The logged attempt, if one was made.
        new_deliveries: Deliveries created as a side effect (owner notifications).
    """

    delivery_id: str
    status: str
    retry_in: float | None = None
    attempt: Attempt | None = None
    new_deliveries: tuple[str, ...] = field(default=())
