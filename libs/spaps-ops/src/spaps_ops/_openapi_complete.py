"""Completing an OpenAPI document for clients: security, descriptions and examples.

Applied once to the document FastAPI builds (see :func:`spaps_ops.document_problems`):

* security: ``components.securitySchemes``, each operation's requirement, ``[]`` on
  public paths (an explicit "no credentials", not an omission);
* descriptions for operations whose endpoint has no docstring;
* examples: a JSON body's ``example`` from its schema's first ``examples`` entry (an array
  of a schema: a one-item list), a problem entry's from the registered codes of its
  status, unless the service named the operation's errors;
* problem schemas as the shared ``Problem`` and ``ValidationProblem`` components;
* FastAPI's own validation-error schemas dropped once no 422 refers to them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from ._problem import PROBLEM_CONTENT_TYPE
from ._problem_docs import EXAMPLE_INSTANCE, PROBLEM_COMPONENTS, problem_example
from ._registry import ErrorCode, ErrorRegistry

Requirement = dict[str, Any]
_REF = "#/components/schemas/"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass
class Completion:
    """What :func:`spaps_ops.document_problems` adds besides the problem entries."""

    registry: ErrorRegistry
    public: frozenset[str] = frozenset()
    security_schemes: dict[str, Any] = field(default_factory=dict)
    security: list[Requirement] = field(default_factory=list)
    operation_security: dict[str, Any] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    examples: dict[str, Any] = field(default_factory=dict)
    operation_errors: dict[str, list[ErrorCode]] = field(default_factory=dict)

    def apply(self, spec: dict[str, Any]) -> None:
        components: dict[str, Any] = spec.setdefault("components", {})
        schemas: dict[str, Any] = components.setdefault("schemas", {})
        if self.security_schemes:
            components.setdefault("securitySchemes", {}).update(self.security_schemes)
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if method in _METHODS:
                    self._operation(operation, path=path, schemas=schemas)
        share_problem_schemas(spec)
        _drop_unused_validation_schemas(spec)

    def _operation(self, operation: dict[str, Any], *, path: str, schemas: dict[str, Any]) -> None:
        name = operation.get("operationId", "")
        if path in self.public and (self.security or self.security_schemes):
            operation["security"] = []
        elif name in self.operation_security:
            operation["security"] = [dict(r) for r in self.operation_security[name]]
        elif self.security:
            operation.setdefault("security", [dict(r) for r in self.security])
        if not operation.get("description") and name in self.descriptions:
            operation["description"] = self.descriptions[name]
        body = operation.get("requestBody", {}).get("content", {})
        for media in body.values():
            self._json_example(media, schemas, operation_name=None)
        responses: dict[str, Any] = operation.get("responses", {})
        for status, shared in responses.items():
            # FastAPI copies a route's entry shallowly: operations sharing one (a router's
            # responses=) share its content, which is completed per operation below
            response = responses[status] = copy.deepcopy(shared)
            for media_type, media in response.get("content", {}).items():
                if media_type == PROBLEM_CONTENT_TYPE:
                    self._problem_examples(media, status=status, path=path, name=name)
                elif status.startswith("2"):
                    self._json_example(media, schemas, operation_name=name)

    def _problem_examples(
        self, media: dict[str, Any], *, status: str, path: str, name: str
    ) -> None:
        for example in media.get("examples", {}).values():
            value = example.get("value") if isinstance(example, dict) else None
            if isinstance(value, dict) and value.get("instance") == EXAMPLE_INSTANCE:
                value["instance"] = path  # built without the route: this is its path
        if "examples" in media or "example" in media or not status.isdigit():
            return
        if name in self.operation_errors:  # the service named them: no registry guesses
            return
        codes = [entry for entry in self.registry if entry.status == int(status)]
        if codes:
            media["examples"] = {e.code: problem_example(e, instance=path) for e in codes}

    def _json_example(
        self, media: dict[str, Any], schemas: dict[str, Any], *, operation_name: str | None
    ) -> None:
        if "example" in media or "examples" in media:
            return
        if operation_name is not None and operation_name in self.examples:
            media["example"] = self.examples[operation_name]
            return
        found = self._example_of(media.get("schema", {}), schemas)
        if found is not None:
            media["example"] = found

    def _example_of(self, schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
        ref = schema.get("$ref", "")
        if ref.startswith(_REF):
            name = ref.removeprefix(_REF)
            if name in self.examples:
                return self.examples[name]
            return self._example_of(schemas.get(name, {}), schemas)
        listed = schema.get("examples")
        if isinstance(listed, list) and listed:
            return listed[0]
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            item = self._example_of(schema["items"], schemas)
            return None if item is None else [item]
        for choice in schema.get("anyOf", ()):
            if isinstance(choice, dict) and choice.get("type") != "null":
                found = self._example_of(choice, schemas)
                if found is not None:
                    return found
        return None


def share_problem_schemas(spec: dict[str, Any]) -> None:
    """Make a document's problem entries refer to the shared ``Problem`` and
    ``ValidationProblem`` components instead of repeating the schema inline, so that a
    client generated from it has one problem type, not one per operation and status.

    :func:`spaps_ops.document_problems` does this; a layer that adds problem entries to
    the document after it calls this again. A component of either name that is
    something else is left as it is, and so are the entries' inline schemas.

    Args:
        spec: an OpenAPI document (edited in place).

    .. versionadded:: 0.8.0
    """
    schemas: dict[str, Any] = spec.setdefault("components", {}).setdefault("schemas", {})
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            for response in operation.get("responses", {}).values():
                media = response.get("content", {}).get(PROBLEM_CONTENT_TYPE)
                for name, schema in PROBLEM_COMPONENTS.items():
                    if media is None or media.get("schema") != schema:
                        continue
                    if name not in schemas:  # a copy: the document may be edited later
                        schemas[name] = copy.deepcopy(schema)
                    if schemas[name] == schema:
                        media["schema"] = {"$ref": f"{_REF}{name}"}


def _drop_unused_validation_schemas(spec: dict[str, Any]) -> None:
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if name not in schemas:
            continue
        without = {k: v for k, v in schemas.items() if k != name}
        text = json.dumps({**spec, "components": {**spec["components"], "schemas": without}})
        if f'"{_REF}{name}"' not in text:
            del schemas[name]
