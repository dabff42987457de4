"""Shared by both services' test suites: a small OpenAPI-driven request generator.

Valid, boundary and hostile values for every parameter and body field of every
operation, with a deterministic seed. Each service's ``test_*_fuzz.py`` drives it against
its own app through the ``openapi_fuzz`` fixture (test modules cannot import each other).
"""

from __future__ import annotations

import random
import string
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest

HOSTILE = [
    "", " ", "'", '"', "../../etc/passwd", "%00", "\u0000", "😀", "a" * 300, "-1",
    "1e309", "NaN", "null", "<script>", "SELECT 1;--", "\\", "ik_x_y", "whsec_x",
]  # fmt: skip


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def value(  # noqa: PLR0911, PLR0912 -- one branch per JSON Schema type
    schema: dict[str, Any], spec: dict[str, Any], rng: random.Random, depth: int = 0
) -> Any:
    """A value for ``schema``: mostly valid, sometimes beyond its bounds or hostile."""
    schema = _resolve(schema, spec)
    if rng.random() < 0.1:
        return rng.choice([*HOSTILE, None, -1, 0, 10**12, 3.5, True, [], {}])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return value(rng.choice(schema[key]), spec, rng, depth)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "integer":
        low = int(schema.get("minimum", schema.get("exclusiveMinimum", -5)))
        high = int(schema.get("maximum", schema.get("exclusiveMaximum", 10**6)))
        return rng.choice([low, high, low - 1, high + 1, rng.randint(low, high)])
    if kind == "number":
        return rng.choice([0.0, -1.0, 1e-9, 1e9, rng.uniform(0, 100)])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "array":
        if depth > 3:
            return []
        return [
            value(schema.get("items", {}), spec, rng, depth + 1) for _ in range(rng.randint(0, 3))
        ]
    if kind == "object":
        if depth > 3:
            return {}
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out = {
            name: value(sub, spec, rng, depth + 1)
            for name, sub in props.items()
            if (name in required and rng.random() > 0.05) or rng.random() < 0.5
        }
        if not props and rng.random() < 0.5:
            out = {rng.choice(["Ca", "Mg", "Zn", "Xx"]): rng.uniform(-1, 50)}
        return out
    text = "".join(
        rng.choice(string.ascii_letters + string.digits + "-_ .") for _ in range(rng.randint(0, 20))
    )
    return rng.choice([text, schema.get("examples", [text])[0], *HOSTILE[:5]])


def conforms(body: Any, schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Shallow schema check: type of the document and required members of objects."""
    schema = _resolve(schema, spec)
    if schema.get("type") == "array":
        return isinstance(body, list) and all(
            conforms(i, schema.get("items", {}), spec) for i in body
        )
    if schema.get("type") == "object" or "properties" in schema:
        return isinstance(body, dict) and set(schema.get("required", ())) <= set(body)
    return True


def cases(spec: dict[str, Any], rng: random.Random, per_operation: int) -> list[tuple[Any, ...]]:
    out = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for _ in range(per_operation):
                url, query = path, {}
                for parameter in operation.get("parameters", []):
                    generated = value(parameter.get("schema", {}), spec, rng)
                    if parameter["in"] == "path":
                        segment = quote(str(generated), safe="") or "x"
                        url = url.replace("{" + parameter["name"] + "}", segment)
                    elif (
                        parameter["in"] == "query" and rng.random() < 0.7 and generated is not None
                    ):
                        query[parameter["name"]] = (
                            generated if not isinstance(generated, (list, dict)) else str(generated)
                        )
                body = None
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    body = value(content["application/json"]["schema"], spec, rng)
                declared = operation.get("responses", {})
                out.append((method.upper(), url, {"params": query, "json": body}, declared))
    return out


@pytest.fixture
def openapi_fuzz() -> SimpleNamespace:
    """``cases(spec, rng, per_operation)`` and ``conforms(body, schema, spec)``."""
    return SimpleNamespace(cases=cases, conforms=conforms)
