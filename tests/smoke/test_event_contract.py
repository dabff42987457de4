"""The event contract between the services: htma reads ``ingredient.updated.v1`` as
ingredient publishes it.

htma keeps its own reader model (services never import each other); this test is the
consumer-driven contract that keeps the two in step: every field htma requires is one
ingredient always sends, with a compatible type, and an event ingredient builds validates
in htma's reader.
"""

from __future__ import annotations

from typing import Any

from htma.events import INGREDIENT_UPDATED as HTMA_READS
from htma.events import IngredientUpdatedV1 as Reader
from ingredient.events import INGREDIENT_UPDATED, event_registry


def _producer_schema() -> dict[str, Any]:
    schema: dict[str, Any] = event_registry().get(INGREDIENT_UPDATED).json_schema()
    return schema


def test_htma_reads_the_event_type_ingredient_publishes() -> None:
    assert HTMA_READS == INGREDIENT_UPDATED
    assert INGREDIENT_UPDATED in event_registry()


def test_every_field_htma_requires_is_one_ingredient_always_sends() -> None:
    producer = _producer_schema()
    reader = Reader.model_json_schema()
    assert reader["required"]
    for field in reader["required"]:
        assert field in producer.get("required", []), f"ingredient may omit {field!r}"
        assert producer["properties"][field]["type"] == reader["properties"][field]["type"]


def test_an_event_ingredient_builds_validates_in_htma() -> None:
    payload = event_registry().validate(
        INGREDIENT_UPDATED,
        {"code": "A001", "name": "Amaranth grain", "version": 3, "changed": ["name", "fat_g"]},
    )
    event = Reader.model_validate(payload)
    assert (event.code, event.name, event.version) == ("A001", "Amaranth grain", 3)
