"""Database outages answered 503 ``ops.database_unavailable``, never 500."""

from __future__ import annotations

import structlog
from sqlalchemy import exc as sa_exc
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._errors import ProblemError
from ._problem import response_for_exception

_log = structlog.get_logger("spaps.db")

#: Seconds a client is told to wait before retrying after a database outage.
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableError(ProblemError):
    """The database could not be reached, or did not answer within the bounds (503).

    .. versionchanged:: 0.5.0 exported from :mod:`spaps_ops.db`.
    """

    def __init__(self) -> None:
        super().__init__(
            status=503,
            code="ops.database_unavailable",
            title="Database unavailable",
            detail="the database is unreachable or did not answer in time; retry later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or too slow (not a bad query).

    .. versionchanged:: 0.5.0 exported from :mod:`spaps_ops.db`.

    SQLAlchemy's ``OperationalError``/``InterfaceError``, any ``DBAPIError`` that
    invalidated its connection or wraps an ``OSError``/``TimeoutError``, the pool's
    ``TimeoutError``, and a bare ``TimeoutError``/``ConnectionError`` (a driver's connect
    or command timeout that reached us unwrapped).
    """
    if isinstance(exc, sa_exc.DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
            or isinstance(exc.orig, (OSError, TimeoutError))
        )
    return isinstance(exc, (sa_exc.TimeoutError, TimeoutError, ConnectionError))


async def outage_handler(request: Request, exc: Exception) -> Response:
    """Exception handler: a database outage as 503, anything else re-raised (500)."""
    if not is_database_outage(exc):
        raise exc
    _log.warning("database_unavailable", error=type(exc).__name__, path=request.url.path)
    return response_for_exception(DatabaseUnavailableError(), request.scope)


class DatabaseOutageMiddleware:
    """Answer a database outage raised by the layers inside it 503 ``ops.database_unavailable``.

    :func:`~spaps_ops.db.use_database` answers outages raised in routes; a middleware that
    reads the database itself (a session check, idempotency records) runs outside the
    routes, where its outage would be a 500. Put this layer before such middleware in
    ``create_app(middleware=[...])``: an outage is logged and re-raised as
    :class:`DatabaseUnavailableError`, which spaps-ops renders with ``Retry-After`` and the
    request id. Any other error passes through unchanged.

    Args:
        app: The wrapped ASGI app.

    .. versionadded:: 0.5.0
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            _log.warning("database_unavailable", error=type(exc).__name__, path=scope["path"])
            raise DatabaseUnavailableError() from exc
