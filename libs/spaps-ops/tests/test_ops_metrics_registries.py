"""``/metrics`` also serving other registries: the global one, where spaps-jobs registers
its task and relay metrics, next to the app's own; each metric name once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from spaps_ops import HttpMetrics, get_ops

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def global_counter() -> Iterator[Callable[[str], Counter]]:
    """``global_counter(name)``: a counter on ``prometheus_client.REGISTRY``, unregistered
    after the test (the registry outlives it)."""
    made: list[Counter] = []

    def make(name: str) -> Counter:
        made.append(Counter(name, "A counter of another library.", registry=REGISTRY))
        return made[-1]

    yield make
    for counter in made:
        REGISTRY.unregister(counter)


def type_lines(text: str, name: str) -> list[str]:
    """The ``# TYPE`` lines of counter ``name`` (the text format names it ``<name>_total``)."""
    return re.findall(rf"^# TYPE {re.escape(name)}_total counter$", text, re.MULTILINE)


async def test_a_counter_on_the_global_registry_appears_once_exposed(
    make_app: Callable[..., FastAPI], make_client: Client, global_counter: Any
) -> None:
    name = f"relay_{uuid.uuid4().hex[:8]}_published"
    global_counter(name).inc(3)
    app = make_app()
    client = await make_client(app)
    assert f"{name}_total" not in (await client.get("/metrics")).text  # not by default

    metrics = get_ops(app).metrics
    assert metrics is not None
    metrics.expose(REGISTRY)
    metrics.expose(REGISTRY)  # again: no second copy
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert f"{name}_total 3.0" in answer.text
    assert len(type_lines(answer.text, "http_requests")) == 1  # the app's own stay
    assert len(type_lines(answer.text, name)) == 1


async def test_a_name_already_served_is_not_served_twice(
    make_app: Callable[..., FastAPI], make_client: Client, global_counter: Any
) -> None:
    # Another library counting HTTP requests on the global registry under the same name.
    global_counter("http_requests").inc(1000)
    app = make_app()
    metrics = get_ops(app).metrics
    assert metrics is not None
    metrics.expose(REGISTRY)
    client = await make_client(app)
    await client.get("/health/live")
    text = (await client.get("/metrics")).text
    assert len(type_lines(text, "http_requests")) == 1
    assert 'http_requests_total{method="GET",route="/health/live",status="2xx"} 1.0' in text
    assert "http_requests_total 1000.0" not in text  # the app's own won


def test_extra_registries_at_construction_and_render_order() -> None:
    jobs, other = CollectorRegistry(), CollectorRegistry()
    Counter("tasks", "Tasks run.", registry=jobs).inc()
    Counter("tasks", "Shadowed: jobs came first.", registry=other).inc(7)
    Counter("beats", "Beats.", registry=other).inc(2)
    metrics = HttpMetrics(extra_registries=[jobs, other])
    metrics.request_started()
    metrics.request_finished("GET", "/", 200, 0.01)
    text = metrics.render()[0].decode()
    assert "tasks_total 1.0" in text
    assert "tasks_total 7.0" not in text
    assert "beats_total 2.0" in text
    assert 'http_requests_total{method="GET",route="/",status="2xx"} 1.0' in text
    metrics.expose(metrics.registry)  # its own: already served
    assert metrics.render()[0].decode() == text


def test_expose_refuses_what_is_not_a_registry() -> None:
    with pytest.raises(TypeError, match="CollectorRegistry"):
        HttpMetrics().expose("REGISTRY")  # type: ignore[arg-type]
