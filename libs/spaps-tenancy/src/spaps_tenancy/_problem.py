"""problem+json answers written directly by this library's ASGI middleware."""

from __future__ import annotations

import json

from starlette.types import Send

from ._errors import SpapsTenancyError


def problem_body(error: SpapsTenancyError) -> dict[str, object]:
    """Return the RFC 9457 body of ``error`` in the shape every spaps library uses."""
    body: dict[str, object] = {
        "type": f"urn:spaps:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.extensions:
        body.update(error.extensions)
    return body


async def send_problem(send: Send, error: SpapsTenancyError) -> None:
    """Send ``error`` as a complete ``application/problem+json`` HTTP response."""
    payload = json.dumps(problem_body(error)).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (error.headers or {}).items()
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
