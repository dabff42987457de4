"""Webhook event types htma sends (``result.ready.v1``) and receives (``ingredient.updated.v1``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from spaps_webhooks import EventRegistry

RESULT_READY = "result.ready.v1"
INGREDIENT_UPDATED = "ingredient.updated.v1"


class ResultReadyV1(BaseModel):
    """A panel's result is computed; fetch it with ``GET /v1/panels/{panel_id}/result``."""

    result_id: str
    panel_id: str
    patient_id: str
    clinic: str
    deficient: list[str] = Field(description="minerals below their reference interval")
    reference_version: str
    recommendations: str = Field(description="'ok' or 'unavailable' (ingredient down)")


class IngredientUpdatedV1(BaseModel):
    """What htma reads of ingredient's ``ingredient.updated.v1``: a tolerant reader of the
    producer's event, declaring only the fields htma uses and ignoring the others, so
    ingredient may add fields freely. ``tests/smoke/test_event_contract.py`` checks it
    against the schema ingredient registers for the event."""

    model_config = ConfigDict(extra="ignore")

    code: str
    name: str
    version: int


def event_registry() -> EventRegistry:
    """The events htma publishes."""
    registry = EventRegistry()
    registry.register(RESULT_READY, ResultReadyV1)
    return registry
