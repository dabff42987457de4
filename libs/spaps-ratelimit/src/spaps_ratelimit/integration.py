"""Thin Starlette/FastAPI integration: register the limiter, render the errors.

Usage in an app factory::

    limiter = RateLimiter(RedisStore.from_url(settings.redis_url))
    app = FastAPI(lifespan=...)  # close it on shutdown: await limiter.aclose()
    setup(app, limiter)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, policy=Policy("100/minute"))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ._errors import SpapsRatelimitError
from ._headers import problem_body
from ._limiter import RateLimiter
from ._route import STATE_ATTR

__all__ = ["get_limiter", "install_error_handlers", "problem_response", "setup"]


def setup(app: Starlette, limiter: RateLimiter, *, error_handlers: bool = True) -> None:
    """Register ``limiter`` for :class:`RouteLimit` dependencies of ``app``.

    Args:
        app: The application.
        limiter: The limiter route policies use when no middleware provides one.
        error_handlers: Also call :func:`install_error_handlers` (skip when spaps-ops
            renders errors for you).
    """
    if not isinstance(limiter, RateLimiter):
        raise TypeError(f"limiter must be a RateLimiter, got {limiter!r}")
    setattr(app.state, STATE_ATTR, limiter)
    if error_handlers:
        install_error_handlers(app)


def get_limiter(app: Starlette) -> RateLimiter:
    """The limiter registered by :func:`setup`; fails loudly when setup was skipped."""
    limiter = getattr(app.state, STATE_ATTR, None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("no RateLimiter registered: call spaps_ratelimit.integration.setup")
    return limiter


def problem_response(error: SpapsRatelimitError, *, scope: Scope | None = None) -> Response:
    """``error`` as an ``application/problem+json`` response with its headers.

    Args:
        error: The error.
        scope: The request's scope: the body then carries ``instance`` and
            ``request_id`` too.

    .. versionchanged:: 0.4.0 ``scope``.
    """
    return Response(
        problem_body(error, scope),
        status_code=error.status,
        headers=dict(error.headers or {}),
        media_type="application/problem+json",
    )


async def _handle(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, SpapsRatelimitError):  # pragma: no cover - registered for ours only
        raise exc
    return problem_response(exc, scope=request.scope)


def install_error_handlers(app: Starlette) -> None:
    """Render every :class:`SpapsRatelimitError` as problem+json (429/413/503).

    For apps without spaps-ops; spaps-ops renders these errors itself because they
    carry ``status``, ``code`` and ``title``.
    """
    app.add_exception_handler(SpapsRatelimitError, _handle)
