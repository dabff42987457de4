"""deprecated(...): one mark on a route gives Deprecation, Sunset and Link headers over
HTTP and ``deprecated: true`` in OpenAPI."""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from spaps_ops import Deprecation, deprecated

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]
SINCE, SUNSET = date(2026, 12, 1), date(2027, 6, 1)


def build(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()
    mark = deprecated(since=SINCE, sunset=SUNSET, successor="/v2/panels")

    @app.get("/v1/panels", **mark)
    async def list_panels_v1() -> list[str]:
        """The old listing."""
        return ["p1"]

    @app.get("/v2/panels")
    async def list_panels() -> list[str]:
        return ["p1"]

    old = APIRouter(prefix="/v1/old")

    @old.get("/thing")
    async def old_thing() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(old, **deprecated(since=SINCE, sunset=SUNSET))
    return app


async def test_a_deprecated_route_answers_with_the_headers(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    client = await make_client(build(make_app))
    answer = await client.get("/v1/panels")
    assert answer.status_code == 200
    assert answer.json() == ["p1"]
    epoch = calendar.timegm(datetime(2026, 12, 1, tzinfo=UTC).timetuple())
    assert answer.headers["Deprecation"] == f"@{epoch}"  # RFC 9745: a structured-field date
    assert answer.headers["Sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"  # RFC 8594 HTTP-date
    assert parsedate_to_datetime(answer.headers["Sunset"]).date() == SUNSET
    assert answer.headers["Link"] == '</v2/panels>; rel="successor-version"'
    current = await client.get("/v2/panels")
    assert not {"deprecation", "sunset", "link"} & set(current.headers)
    router_wide = await client.get("/v1/old/thing")
    assert router_wide.headers["Deprecation"] == f"@{epoch}"
    assert "link" not in router_wide.headers  # no successor given


def test_openapi_marks_exactly_the_deprecated_routes(make_app: Callable[..., FastAPI]) -> None:
    paths = build(make_app).openapi()["paths"]
    assert paths["/v1/panels"]["get"]["deprecated"] is True
    assert paths["/v1/old/thing"]["get"]["deprecated"] is True
    assert "deprecated" not in paths["/v2/panels"]["get"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"since": SUNSET, "sunset": SINCE}, ValueError, "must come after"),
        ({"since": SINCE, "sunset": SUNSET, "successor": ""}, ValueError, "URI reference"),
        ({"since": SINCE, "sunset": SUNSET, "successor": "/v2>\r\nX: y"}, ValueError, "URI"),
        ({"since": "2026-12-01", "sunset": SUNSET}, TypeError, "dates"),
    ],
)
def test_invalid_marks_are_refused(options: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Deprecation(**options)
