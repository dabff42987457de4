"""Event types every registry knows: the test-fire sample and endpoint notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from ._registry import EventRegistry

TEST_EVENT = "webhook.test.v1"
ENDPOINT_DISABLED_EVENT = "webhook.endpoint.disabled.v1"


class WebhookTestV1(BaseModel):
    """A sample event sent by test-fire to check an endpoint end to end."""

    endpoint_id: str
    message: str = "This is a test webhook from spaps-webhooks."


class EndpointDisabledV1(BaseModel):
    """An endpoint was disabled: it answered 410 Gone or kept failing for too long."""

    endpoint_id: str
    url: str
    reason: str
    failing_since: str | None = None


def register_builtin_events(registry: EventRegistry) -> None:
    """Register the built-in event types on ``registry``."""
    registry.register(TEST_EVENT, WebhookTestV1)
    registry.register(ENDPOINT_DISABLED_EVENT, EndpointDisabledV1)
