"""Versioned event schemas."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import spaps_webhooks
from pydantic import BaseModel
from spaps_webhooks import (
    ENDPOINT_DISABLED_EVENT,
    TEST_EVENT,
    EventRegistry,
    InvalidPayloadError,
    UnknownEventTypeError,
    parse_event_type,
)


class ResultReadyV1(BaseModel):
    """A lab result is ready for the practitioner."""

    result_id: int


class ResultReadyV2(BaseModel):
    """Version 2 adds the panel."""

    result_id: int
    panel: str


def test_versions_are_part_of_the_type() -> None:
    registry = EventRegistry()
    registry.register("result.ready.v1", ResultReadyV1)
    registry.register("result.ready.v2", ResultReadyV2)
    assert registry.validate("result.ready.v1", {"result_id": 1}) == {"result_id": 1}
    with pytest.raises(InvalidPayloadError) as caught:
        registry.validate("result.ready.v2", {"result_id": 1})
    assert caught.value.extensions is not None
    assert caught.value.extensions["errors"][0]["loc"] == ["panel"]
    assert parse_event_type("result.ready.v2") == ("result.ready", 2)


def test_decorator_and_model_instances() -> None:
    registry = EventRegistry(builtin=False)

    @registry.event("ingredient.updated.v1")
    class IngredientUpdatedV1(BaseModel):
        """An ingredient changed."""

        code: str

    assert registry.validate("ingredient.updated.v1", IngredientUpdatedV1(code="A001")) == {
        "code": "A001"
    }
    with pytest.raises(InvalidPayloadError, match="expected a IngredientUpdatedV1"):
        registry.validate("ingredient.updated.v1", ResultReadyV1(result_id=1))


@pytest.mark.parametrize(
    "name", ["result.ready", "Result.ready.v1", "result..ready.v1", "result.ready.v0", "v1"]
)
def test_bad_type_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must be dotted"):
        EventRegistry().register(name, ResultReadyV1)


def test_unknown_types_and_double_registration() -> None:
    registry = EventRegistry()
    with pytest.raises(UnknownEventTypeError):
        registry.validate("nope.v1", {})
    registry.register("result.ready.v1", ResultReadyV1)
    registry.register("result.ready.v1", ResultReadyV1)  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        registry.register("result.ready.v1", ResultReadyV2)


def test_listing_documents_every_type() -> None:
    registry = EventRegistry()
    registry.register("result.ready.v1", ResultReadyV1)
    listing = registry.describe()
    assert [e["type"] for e in listing] == [
        "result.ready.v1",
        "webhook.endpoint.disabled.v1",
        "webhook.test.v1",
    ]
    assert listing[0]["description"] == "A lab result is ready for the practitioner."
    assert listing[0]["schema"]["properties"]["result_id"]["type"] == "integer"
    markdown = registry.to_markdown()
    assert "## `result.ready.v1`" in markdown
    assert TEST_EVENT in registry
    assert ENDPOINT_DISABLED_EVENT in registry


def package_imports() -> dict[str, set[str]]:
    """Which sibling modules each module of the package imports (``TYPE_CHECKING`` too)."""
    root = Path(spaps_webhooks.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[path.stem] = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        }
    return graph


def test_the_package_has_no_import_cycle() -> None:
    graph = package_imports()
    assert "_registry" in graph
    assert "_builtin_events" in graph["_registry"]

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph.get(start, set()) - seen:
            if module == target or reaches(module, target, seen | {module}):
                return True
        return False

    assert [m for m in sorted(graph) if reaches(m, m, set())] == []
