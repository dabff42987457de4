"""OpenAPI helpers shared by the routers."""

from __future__ import annotations

from typing import Any

#: The RFC 9457 problem document spaps-ops renders for every error.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:spaps:problem:htma.not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": ["string", "null"]},
        "instance": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem+json error."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
    }
