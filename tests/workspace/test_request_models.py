"""Every request model of both services refuses non-finite numbers (NaN, Infinity, and
1e999, which JSON parsers read as infinity) in every float field, at any depth.

The request bodies are read from each service's OpenAPI document; each schema is matched
to its pydantic model, and every number field (properties, dict values, list items) is
validated with a non-finite value: the model must report an error at that field.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

NON_FINITE = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"]

Loc = tuple[str | int, ...]


def _all_models() -> dict[str, list[type[BaseModel]]]:
    found: dict[str, list[type[BaseModel]]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            found.setdefault(sub.__name__, []).append(sub)
    return found


def _model_for(component: str, models: dict[str, list[type[BaseModel]]]) -> type[BaseModel]:
    # FastAPI names a component after its class, or ``module__Class`` when two share a name.
    module, _, name = component.rpartition("__")
    candidates = [m for m in models.get(name or component, []) if "[" not in m.__name__]
    if module:
        candidates = [m for m in candidates if m.__module__ == module.replace("__", ".")]
    if len(candidates) != 1:
        raise AssertionError(f"component {component!r} matches models {candidates}")
    return candidates[0]


def _is_number(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return any(option.get("type") == "number" for option in options)


def _number_paths(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Iterator[Loc]:
    """Locations of number fields in documents of ``schema`` (dict keys as ``"x"``)."""
    if depth > 6:
        return
    if "$ref" in schema:
        yield from _number_paths(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, depth + 1)
        return
    if _is_number(schema):
        yield ()
        return
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _number_paths(option, defs, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        for rest in _number_paths(sub, defs, depth + 1):
            yield (name, *rest)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for rest in _number_paths(extra, defs, depth + 1):
            yield ("x", *rest)
    if isinstance(schema.get("items"), dict):
        for rest in _number_paths(schema["items"], defs, depth + 1):
            yield (0, *rest)


def _document(loc: Loc, literal: str) -> str:
    text = literal
    for part in reversed(loc):
        text = f"[{text}]" if isinstance(part, int) else f'{{"{part}": {text}}}'
    return text


def _accepts(model: type[BaseModel], loc: Loc, literal: str) -> bool:
    """Whether validating ``literal`` at ``loc`` reports no error at that field."""
    try:
        model.model_validate_json(_document(loc, literal))
    except ValidationError as error:
        return not any(tuple(e["loc"])[: len(loc)] == loc for e in error.errors())
    return True


def _service_app(name: str) -> Any:
    for variable in list(os.environ):
        if variable.startswith(name.upper() + "_"):
            del os.environ[variable]
    module = importlib.import_module(name)
    return module.create_app(module.Settings(_env_file=None), configure_logging=False)


def _request_models(name: str) -> list[tuple[str, type[BaseModel]]]:
    spec = _service_app(name).openapi()
    models = _all_models()
    found: dict[str, type[BaseModel]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref")
                if ref:
                    component = ref.rsplit("/", 1)[-1]
                    found[component] = _model_for(component, models)
                elif _is_number(media.get("schema", {})):
                    raise AssertionError(f"{method.upper()} {path}: a bare number body")
    return sorted(found.items())


#: Float fields each service's request models had when this test was written: the walk
#: finding fewer means it broke, not that the models became safe.
MIN_FLOAT_FIELDS = {"htma": 1, "ingredient": 7}  # PanelIn.minerals; IngredientPatch


@pytest.mark.parametrize("service", sorted(MIN_FLOAT_FIELDS))
def test_every_float_field_of_every_request_model_refuses_non_finite_numbers(
    service: str,
) -> None:
    models = _request_models(service)
    assert models, f"{service} has no request body models: the walk found nothing"
    checked = 0
    accepting = []
    for component, model in models:
        schema = model.model_json_schema()
        for loc in sorted(set(_number_paths(schema, schema.get("$defs", {}))), key=str):
            checked += 1
            accepting += [f"{component}.{'.'.join(map(str, loc))} accepts {literal}"
                          for literal in NON_FINITE if _accepts(model, loc, literal)]  # fmt: skip
    assert not accepting, "\n".join(accepting)
    assert checked >= MIN_FLOAT_FIELDS[service]


def test_the_check_finds_a_model_that_accepts_infinity() -> None:
    class Loose(BaseModel):
        amounts: dict[str, list[float | None]]

    schema = Loose.model_json_schema()
    (loc,) = set(_number_paths(schema, schema.get("$defs", {})))
    assert loc == ("amounts", "x", 0)
    assert _accepts(Loose, loc, "1e999")
    assert _accepts(Loose, loc, "NaN")
