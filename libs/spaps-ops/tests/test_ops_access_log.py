"""One JSON access-log line per request, with route template, user and tenant."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spaps_ops import AccessLogMiddleware, configure_logging
from starlette.types import ASGIApp, Receive, Scope, Send

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


async def test_one_line_per_request_with_route_template(
    make_app: Callable[..., FastAPI], make_client: Client, logs: Any
) -> None:
    app = make_app()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    client = await make_client(app)
    await client.get("/items/41", headers={"X-Request-ID": "access-0001"})
    await client.get("/no/such/path")
    await client.get("/health/live")  # probes are not logged by default
    first, second = logs.records("http_request")
    assert first["method"] == "GET"
    assert first["route"] == "/items/{item_id}"
    assert first["status"] == 200
    assert first["request_id"] == "access-0001"
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert 0 <= first["duration_ms"] < 5000
    assert "user_id" not in first
    assert second["route"] == "<unmatched>"
    assert second["status"] == 404


async def test_user_and_tenant_reported_through_request_state(
    make_app: Callable[..., FastAPI], make_client: Client, logs: Any
) -> None:
    app = make_app()

    @app.get("/me")
    async def me(request: Request) -> dict[str, bool]:
        request.state.user_id = "user-7"  # what an auth dependency does
        request.state.tenant_id = 42  # what tenancy middleware does
        return {"ok": True}

    client = await make_client(app)
    await client.get("/me")
    (line,) = logs.records("http_request")
    assert line["user_id"] == "user-7"
    assert line["tenant_id"] == "42"


async def test_user_reported_through_structlog_contextvars(
    make_app: Callable[..., FastAPI], make_client: Client, logs: Any
) -> None:
    app = make_app()

    @app.get("/me")
    async def me() -> dict[str, bool]:
        structlog.contextvars.bind_contextvars(user_id="ctx-user")
        return {"ok": True}

    client = await make_client(app)
    await client.get("/me")
    (line,) = logs.records("http_request")
    assert line["user_id"] == "ctx-user"


async def test_unhandled_error_logged_with_status_500(
    make_app: Callable[..., FastAPI], make_client: Client, logs: Any
) -> None:
    app = make_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    client = await make_client(app)
    response = await client.get("/boom")
    assert response.status_code == 500
    (error,) = logs.records("unhandled_exception")
    assert "RuntimeError" in error["exception"]
    (line,) = logs.records("http_request")
    assert line["status"] == 500
    assert line["request_id"] == response.headers["x-request-id"]


class Raising:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("before any response")


async def test_bare_middleware_logs_even_when_the_app_raises(logs: Any) -> None:
    configure_logging(stream=logs.stream)
    app: ASGIApp = AccessLogMiddleware(Raising())
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing should be sent")

    with pytest.raises(RuntimeError, match="before any response"):
        await app(scope, receive, send)
    (line,) = logs.records("http_request")
    assert line == {**line, "method": "POST", "route": "<unmatched>", "status": 500}


def test_console_renderer_for_development(logs: Any) -> None:
    configure_logging(json=False, stream=logs.stream, level="warning")
    log = structlog.get_logger("t")
    log.info("hidden")
    log.warning("shown", k=1)
    text = logs.stream.getvalue()
    assert "hidden" not in text
    assert "shown" in text
    try:
        json.loads(text)
    except json.JSONDecodeError:
        pass
    else:  # pragma: no cover - would mean JSON was written
        raise AssertionError("expected console output, got JSON")


def test_json_lines_format(logs: Any) -> None:
    import datetime as dt  # noqa: PLC0415  # only this test needs it

    configure_logging(stream=logs.stream)
    log = structlog.get_logger("t")
    log.warning("odd_values", when=dt.date(2024, 2, 29), obj=object.__new__(Raising))
    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("failed")
    odd, failed = logs.records()
    assert odd["level"] == "warning"
    assert odd["when"] == "2024-02-29"
    assert odd["obj"].startswith("<")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", odd["timestamp"])
    assert failed["level"] == "error"
    assert "KeyError: 'missing'" in failed["exception"]


def test_invalid_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        configure_logging(level="loud")


def _structlog_line(logs: Any, event: str, fields: dict[str, Any]) -> str:
    """The line structlog's own processor chain writes for ``fields``."""
    structlog.get_logger("t").info(event, **fields)
    return str(logs.stream.getvalue().splitlines()[-1])


@pytest.mark.parametrize(
    ("fields", "bound"),
    [
        ({"method": "GET", "route": "/ping", "status": 200, "duration_ms": 0.125}, {}),
        (
            {"method": "PÖST", "route": '/a"b/{id}', "status": 404, "duration_ms": 12.0,
             "user_id": "ü\n", "tenant_id": "7"},
            {"request_id": "abc12345", "user_id": "ctx-loses", "n": 3, "f": [1.5, None],
             "event": "ignored"},
        ),
    ],
)  # fmt: skip
def test_direct_line_matches_structlog_byte_for_byte(
    logs: Any, fields: dict[str, Any], bound: dict[str, Any]
) -> None:
    from spaps_ops._logging import InfoLineWriter  # noqa: PLC0415  # private fast path

    configure_logging(stream=logs.stream)
    writer = InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    structlog.contextvars.bind_contextvars(**bound)
    assert writer.write("http_request", dict(fields))
    direct = logs.stream.getvalue().splitlines()[-1]
    reference = _structlog_line(logs, "http_request", fields)
    # Same bytes apart from the clock.
    pattern = r'"timestamp":"[^"]+"'
    assert re.sub(pattern, "", direct) == re.sub(pattern, "", reference)
    assert list(json.loads(direct)) == list(json.loads(reference))


@pytest.mark.parametrize(
    ("user", "tenant", "bound"),
    [
        (None, None, {}),
        (None, None, {"request_id": "abc12345", "user_id": "bound-user", "tenant_id": "t9"}),
        ("ü\n", None, {"request_id": "abc12345", "user_id": "ctx-loses", "tenant_id": "t9"}),
        (None, "7", {"user_id": "bound-user", "tenant_id": "ctx-loses", "n": 3}),
        ("u1", "7", {"route": "ctx-loses", "status": 1, "event": "x", "f": [1.5, None]}),
    ],
)  # fmt: skip
def test_access_line_matches_structlog_byte_for_byte(
    logs: Any, user: str | None, tenant: str | None, bound: dict[str, Any]
) -> None:
    from spaps_ops._logging import InfoLineWriter  # noqa: PLC0415  # private fast path

    configure_logging(stream=logs.stream)
    writer = InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    structlog.contextvars.bind_contextvars(**bound)
    head_fields = {"method": "PÖST", "route": '/a"b/{id}', "status": 404}
    head = writer.encode_fields(head_fields)
    assert writer.write_access(head, 12.5, user, tenant)
    direct = logs.stream.getvalue().splitlines()[-1]
    fields: dict[str, Any] = {**head_fields, "duration_ms": 12.5}
    if user is not None:
        fields["user_id"] = user
    if tenant is not None:
        fields["tenant_id"] = tenant
    reference = _structlog_line(logs, "http_request", fields)
    pattern = r'"timestamp":"[^"]+"'
    assert re.sub(pattern, "", direct) == re.sub(pattern, "", reference)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.floats(min_value=0, max_value=1e13),
        st.sampled_from([0.0, -0.0, 0.0005, 0.0015, 2.675, 999.9995, 1e12, 5e15, 1e17, -3.0]),
    )
)
def test_duration_text_is_the_rounded_floats_repr(logs: Any, duration_ms: float) -> None:
    # The direct writer prints durations from their fixed form; it must be the exact
    # text structlog writes for round(duration_ms, 3), whatever the magnitude.
    from spaps_ops._logging import InfoLineWriter  # noqa: PLC0415  # private fast path

    configure_logging(stream=logs.stream)
    writer = InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    assert writer.write_access('"status":200,', duration_ms, None, None)
    line = logs.stream.getvalue().splitlines()[-1]
    text = re.search(r'"duration_ms":([^,]+),', line)
    assert text is not None
    assert text.group(1) == json.dumps(round(duration_ms, 3))


def test_direct_line_keys_table_is_bounded(logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from spaps_ops import _logging  # noqa: PLC0415  # private fast path

    configure_logging(stream=logs.stream)
    writer = _logging.InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    structlog.contextvars.bind_contextvars(request_id="rid-00001", event="ignored")
    monkeypatch.setattr(_logging, "_MAX_KEYS", 1)
    for _ in range(2):  # the second line takes the uncached path for the second variable
        assert writer.write_access('"status":200,', 1.0, None, None)
    first, second = (json.loads(line) for line in logs.stream.getvalue().splitlines())
    assert first == second | {"timestamp": first["timestamp"]}
    assert first["request_id"] == "rid-00001"
    assert first["event"] == "http_request"
    assert len(writer._keys) == 1


def test_direct_line_leaves_odd_context_and_other_chains_to_structlog(logs: Any) -> None:
    from spaps_ops._logging import InfoLineWriter  # noqa: PLC0415  # private fast path

    configure_logging(stream=logs.stream)
    writer = InfoLineWriter.for_logger(structlog.get_logger("spaps.access").bind())
    assert writer is not None
    structlog.contextvars.bind_contextvars(level="custom")
    assert not writer.write("http_request", {"status": 200})
    assert logs.stream.getvalue() == ""
    # Not the JSON chain, a bound field, or info filtered out: no direct writer.
    configure_logging(stream=logs.stream, json=False)
    assert InfoLineWriter.for_logger(structlog.get_logger("x").bind()) is None
    configure_logging(stream=logs.stream)
    assert InfoLineWriter.for_logger(structlog.get_logger("x").bind(k=1)) is None
    configure_logging(stream=logs.stream, level="warning")
    assert InfoLineWriter.for_logger(structlog.get_logger("x").bind()) is None


async def test_access_line_with_context_field_named_level_still_written(
    make_app: Callable[..., FastAPI], make_client: Client, logs: Any
) -> None:
    app = make_app()

    @app.get("/odd")
    async def odd() -> dict[str, bool]:
        structlog.contextvars.bind_contextvars(level="route-chosen", tenant_id="t-1")
        return {"ok": True}

    client = await make_client(app)
    await client.get("/odd")
    (line,) = logs.records("http_request")
    assert line["level"] == "info"
    assert line["tenant_id"] == "t-1"
    assert line["route"] == "/odd"
