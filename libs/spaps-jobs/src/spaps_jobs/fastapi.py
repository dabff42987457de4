"""FastAPI (and Starlette) integration; needs only Starlette, which spaps-jobs requires.

* :func:`install_error_handlers` -- answer :class:`~spaps_jobs.SpapsJobsError` subclasses
  as problem+json in an app without spaps-ops;
* :func:`require_idempotency_key` -- a dependency for routes that must get a key (the
  :class:`~spaps_jobs.IdempotencyMiddleware` does the storing and replaying).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._errors import IdempotencyKeyMissingError, SpapsJobsError
from ._problem import problem_body

__all__ = ["install_error_handlers", "require_idempotency_key"]


async def _handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SpapsJobsError)
    return JSONResponse(
        problem_body(exc),
        status_code=exc.status,
        headers=dict(exc.headers or {}),
        media_type="application/problem+json",
    )


def install_error_handlers(app: Starlette) -> None:
    """Render every :class:`~spaps_jobs.SpapsJobsError` as RFC 9457 problem+json."""
    app.add_exception_handler(SpapsJobsError, _handle)


def require_idempotency_key(request: Request) -> str:
    """Dependency: the request's ``Idempotency-Key``, or a 400 problem when missing.

    Use as ``Depends(require_idempotency_key)`` (with :func:`install_error_handlers` or
    spaps-ops rendering the error).
    """
    key = request.headers.get("idempotency-key")
    if key is None or not key.strip():
        raise IdempotencyKeyMissingError("this route requires an Idempotency-Key header")
    return key.strip()
