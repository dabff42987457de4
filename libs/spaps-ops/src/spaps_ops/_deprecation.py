"""Deprecated routes: marked in one place, announced in headers and in OpenAPI.

``**deprecated(since=..., sunset=..., successor="/v2/...")`` on a route decorator (or on
``APIRouter``/``include_router``) makes every answer carry

* ``Deprecation: @<epoch>``: since when (RFC 9745, a structured-field date),
* ``Sunset: <HTTP-date>``: when the route stops answering (RFC 8594),
* ``Link: <successor>; rel="successor-version"``: what to call instead,

and documents the route with ``deprecated: true`` in OpenAPI: both come from the one
mark (the route options ``deprecated`` and ``dependencies``).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Depends
from starlette.responses import Response


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class Deprecation:
    """The headers of a deprecated route; a FastAPI dependency (see :func:`deprecated`).

    Args:
        since: the day the route was deprecated.
        sunset: the day it stops answering (after ``since``).
        successor: the route to call instead (a path or an absolute URL).

    .. versionadded:: 0.4.0
    """

    def __init__(self, *, since: date, sunset: date, successor: str | None = None) -> None:
        if not isinstance(since, date) or not isinstance(sunset, date):
            raise TypeError("since and sunset must be dates")
        if sunset <= since:
            raise ValueError(f"sunset ({sunset}) must come after since ({since})")
        if successor is not None and (not successor or any(c in successor for c in "<>\r\n")):
            raise ValueError(f"successor must be a non-empty URI reference, got {successor!r}")
        self.since = since
        self.sunset = sunset
        self.successor = successor
        # Precomputed once: every answer of the route carries the same values.
        self.headers = {
            "Deprecation": f"@{calendar.timegm(_midnight(since).timetuple())}",
            "Sunset": format_datetime(_midnight(sunset), usegmt=True),
        }
        if successor is not None:
            self.headers["Link"] = f'<{successor}>; rel="successor-version"'

    async def __call__(self, response: Response) -> None:
        # FastAPI copies these onto the answer the endpoint returns (not onto a Response
        # object the endpoint builds itself, nor onto error answers).
        for name, value in self.headers.items():
            if name == "Link" and "link" in response.headers:
                response.headers.append(name, value)
            else:
                response.headers[name] = value


def deprecated(
    *, since: date, sunset: date, successor: str | None = None, dependencies: Sequence[Any] = ()
) -> dict[str, Any]:
    """The route options of a deprecated route: ``@router.get(path, **deprecated(...))``.

    Gives ``deprecated=True`` (OpenAPI) and a :class:`Deprecation` dependency (headers);
    works the same on ``APIRouter(...)`` and ``include_router(...)``.

    Args:
        since: the day the route was deprecated (``Deprecation`` header).
        sunset: the day it stops answering (``Sunset`` header).
        successor: the route to call instead (``Link: <...>; rel="successor-version"``).
        dependencies: the route's other dependencies (``dependencies=`` cannot be given
            twice).

    Example::

        @router.get("/v1/panels", **deprecated(
            since=date(2026, 12, 1), sunset=date(2027, 6, 1), successor="/v2/panels"))

    .. versionadded:: 0.4.0
    """
    mark = Deprecation(since=since, sunset=sunset, successor=successor)
    return {"deprecated": True, "dependencies": [*dependencies, Depends(mark)]}
