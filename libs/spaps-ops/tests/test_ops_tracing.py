"""OpenTelemetry request spans, checked with the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def client(
    make_app: Callable[..., FastAPI], make_client: Client, exporter: InMemorySpanExporter
) -> httpx.AsyncClient:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = make_app(tracer_provider=provider)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("x")

    return await make_client(app)


async def test_one_span_per_request_with_route_template(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    await client.get("/items/7", headers={"X-Request-ID": "trace-me-0001"})
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /items/{item_id}"
    assert span.kind is SpanKind.SERVER
    attributes = dict(span.attributes or {})
    assert attributes["http.route"] == "/items/{item_id}"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.path"] == "/items/7"
    assert attributes["request.id"] == "trace-me-0001"
    assert span.status.status_code is StatusCode.UNSET


async def test_server_errors_mark_the_span(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    await client.get("/boom")
    await client.get("/nowhere")
    boom, missing = exporter.get_finished_spans()
    assert boom.status.status_code is StatusCode.ERROR
    assert dict(boom.attributes or {})["http.response.status_code"] == 500
    assert missing.name == "GET <unmatched>"
    assert missing.status.status_code is StatusCode.UNSET


async def test_incoming_traceparent_is_continued(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await client.get("/items/1", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    (span,) = exporter.get_finished_spans()
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
