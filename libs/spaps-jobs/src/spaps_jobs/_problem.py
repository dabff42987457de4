"""RFC 9457 problem+json bodies for the errors spaps-jobs answers itself."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

from ._errors import SpapsJobsError

__all__ = ["problem_body", "send_problem"]


def problem_body(error: SpapsJobsError) -> dict[str, Any]:
    """The problem document of ``error`` (``type`` is ``urn:spaps:problem:<code>``)."""
    body: dict[str, Any] = {
        "type": f"urn:spaps:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    for name, value in (error.extensions or {}).items():
        body.setdefault(name, value)
    return body


async def send_problem(send: Send, error: SpapsJobsError) -> None:
    """Answer a pure-ASGI request with ``error`` as ``application/problem+json``."""
    payload = json.dumps(problem_body(error), separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (error.headers or {}).items()
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
