"""Thin Starlette/FastAPI integration: problem+json answers for tenancy errors.

Services using spaps-ops get this rendering from it already (the errors carry
``status``/``code``/``title``); an app without spaps-ops calls
:func:`install_error_handlers`. For the tenant itself use :class:`TenantMiddleware` and
``Depends(current_tenant)`` in handlers.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._errors import SpapsTenancyError
from ._problem import problem_body


async def _render(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, SpapsTenancyError):  # pragma: no cover - registered for this class only
        raise exc
    return JSONResponse(
        problem_body(exc),
        status_code=exc.status,
        headers=dict(exc.headers or {}),
        media_type="application/problem+json",
    )


def install_error_handlers(app: Starlette) -> None:
    """Answer every :class:`SpapsTenancyError` raised in a handler with problem+json.

    Args:
        app: A Starlette or FastAPI application.

    .. versionadded:: 0.1.0
    """
    if not isinstance(app, Starlette):
        raise TypeError("app must be a Starlette or FastAPI application")
    app.add_exception_handler(SpapsTenancyError, _render)
