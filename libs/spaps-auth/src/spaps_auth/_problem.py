"""RFC 9457 ``application/problem+json`` responses for spaps-auth errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from ._errors import SpapsAuthError

__all__ = ["problem_response"]


def problem_response(exc: SpapsAuthError) -> JSONResponse:
    """Render a spaps-auth error as RFC 9457 ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": f"urn:spaps:problem:{exc.code}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "code": exc.code,
        **(exc.extensions or {}),
    }
    return JSONResponse(
        body,
        status_code=exc.status,
        headers=dict(exc.headers or {}),
        media_type="application/problem+json",
    )
