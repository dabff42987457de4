"""Event types every registry knows: the test-fire sample and endpoint notifications.

Plain data with no import of the registry: ``_registry`` imports :data:`BUILTIN_EVENTS`
and registers them, so the dependency runs one way only.
"""

from __future__ import annotations

from pydantic import BaseModel

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


BUILTIN_EVENTS: tuple[tuple[str, type[BaseModel]], ...] = (
    (TEST_EVENT, WebhookTestV1),
    (ENDPOINT_DISABLED_EVENT, EndpointDisabledV1),
)
"""``(event type, payload model)`` of each built-in event, registered by ``EventRegistry``."""
