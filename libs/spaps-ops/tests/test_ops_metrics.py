"""Prometheus metrics: bounded labels, per-app registries, multiprocess with two workers."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from spaps_ops import HttpMetrics, MetricsMiddleware, get_ops
from spaps_ops.testing import DEADLINE, poll

Client = Callable[[Any], Awaitable[httpx.AsyncClient]]


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_counts_by_method_route_template_and_status_class(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    registry = CollectorRegistry()
    app = make_app(metrics_registry=registry)
    in_flight: list[float] = []

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        in_flight.append(sample(registry, "http_requests_in_progress"))
        return {"id": item_id}

    client = await make_client(app)
    for item_id in (1, 2, 3):
        await client.get(f"/items/{item_id}")
    await client.get("/items/not-a-number")
    for path in ("/wp-admin", "/.env", "/random/attacker/path"):
        await client.get(path)
    await client.request("BREW", "/items/1")

    assert in_flight == [1.0, 1.0, 1.0]
    assert sample(registry, "http_requests_in_progress") == 0.0
    labels = {"method": "GET", "route": "/items/{item_id}"}
    assert sample(registry, "http_requests_total", **labels, status="2xx") == 3
    assert sample(registry, "http_requests_total", **labels, status="4xx") == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    assert sample(registry, "http_requests_total", **unmatched) == 3
    other = {"method": "OTHER", "route": "/items/{item_id}", "status": "4xx"}
    assert sample(registry, "http_requests_total", **other) == 1
    assert sample(registry, "http_request_duration_seconds_count", **labels, status="2xx") == 3
    assert (
        sample(registry, "http_request_duration_seconds_bucket", **labels, status="2xx", le="+Inf")
        == 3
    )

    text = (await client.get("/metrics")).text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert routes == {"/items/{item_id}", "<unmatched>"}  # /metrics not yet counted
    assert "wp-admin" not in text


async def test_each_app_has_its_own_registry(
    make_app: Callable[..., FastAPI], make_client: Client
) -> None:
    first, second = make_app(), make_app()  # no duplicate-timeseries error
    client = await make_client(first)
    await client.get("/health/live")
    first_metrics = get_ops(first).metrics
    second_metrics = get_ops(second).metrics
    assert first_metrics is not None
    assert second_metrics is not None
    assert first_metrics.registry is not second_metrics.registry
    live = {"method": "GET", "route": "/health/live", "status": "2xx"}
    assert sample(first_metrics.registry, "http_requests_total", **live) == 1
    assert sample(second_metrics.registry, "http_requests_total", **live) == 0


async def test_metrics_can_be_disabled(
    make_app: Callable[..., FastAPI], make_client: Client, settings_factory: Any
) -> None:
    app = make_app(settings_factory(metrics_enabled=False))
    assert get_ops(app).metrics is None
    assert (await (await make_client(app)).get("/metrics")).status_code == 404


def test_middleware_validates() -> None:
    with pytest.raises(TypeError, match="HttpMetrics"):
        MetricsMiddleware(FastAPI(), metrics="nope")  # type: ignore[arg-type]


async def test_status_is_500_when_app_raises_before_answering(make_client: Client) -> None:
    metrics = HttpMetrics()

    async def raising(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    app = MetricsMiddleware(raising, metrics=metrics)
    with pytest.raises(RuntimeError):
        await app({"type": "http", "method": "GET", "path": "/"}, None, None)  # type: ignore[arg-type]
    labels = {"method": "GET", "route": "<unmatched>", "status": "5xx"}
    assert sample(metrics.registry, "http_requests_total", **labels) == 1
    assert sample(metrics.registry, "http_requests_in_progress") == 0


#: Seconds two uvicorn workers may take to start on a loaded machine (ends a hung wait).
STARTUP_DEADLINE = 300.0

WORKER_APP = textwrap.dedent(
    """
    import os
    import time

    from spaps_ops import OpsSettings, create_app


    def build():
        app = create_app(OpsSettings(_env_file=None), configure_logging=False)
        # Each worker process builds its app once: tell the test it exists.
        folder = os.environ["SPAPS_TEST_WORKERS_DIR"]
        open(os.path.join(folder, str(os.getpid())), "w").close()

        @app.get("/pid")
        async def pid():
            time.sleep(0.05)  # sleep-ok: a busy worker, so the other one takes connections
            return {"pid": os.getpid()}

        return app
    """
)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """uvicorn with two worker processes sharing one PROMETHEUS_MULTIPROC_DIR, serving a
    socket this fixture binds to port 0 and hands over (``--fd``)."""
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    workers = tmp_path / "workers"
    workers.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "SPAPS_TEST_WORKERS_DIR": str(workers),
    }
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # Listening already: connections wait in the backlog until a worker accepts them.
    sock.listen()
    port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "worker_app:build",
            "--factory",
            "--workers",
            "2",
            "--fd",
            str(sock.fileno()),
            "--app-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ],
        env=env,
        pass_fds=(sock.fileno(),),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.close()  # the server holds the socket now; if it dies, connections are refused
    try:
        # Both worker processes built their app (each writes its pid) ...
        poll(lambda: len(list(workers.iterdir())) == 2 or server.poll() is not None,
             "two uvicorn workers to start", deadline=STARTUP_DEADLINE)  # fmt: skip
        assert server.poll() is None, "uvicorn exited"
        # ... and one serves: the request waits in the backlog until a worker accepts it.
        live = httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=STARTUP_DEADLINE)
        assert live.status_code == 200
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.mark.slow
async def test_multiprocess_scrape_aggregates_two_workers(two_workers: str) -> None:
    pids: set[int] = set()
    sent = 0
    limits = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
    async with httpx.AsyncClient(base_url=two_workers, limits=limits, timeout=DEADLINE) as client:
        # Both workers are up, but the second may still be starting its lifespan: send
        # rounds until each has answered (the deadline only ends a hung wait).
        deadline = asyncio.get_running_loop().time() + STARTUP_DEADLINE
        while len(pids) < 2:
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail("the kernel never handed a connection to the second worker")
            responses = await asyncio.gather(*(client.get("/pid") for _ in range(4)))
            sent += len(responses)
            pids.update(r.json()["pid"] for r in responses)
        text = (await client.get("/metrics")).text
    match = re.search(
        r'http_requests_total\{method="GET",route="/pid",status="2xx"\} ([\d.]+)', text
    )
    assert match is not None, text
    assert float(match.group(1)) == sent  # counts from both processes in one scrape
    assert "http_requests_in_progress" in text


def test_histogram_buckets_are_cumulative() -> None:
    metrics = HttpMetrics(buckets=(0.01, 0.1, 1.0), namespace="svc")
    for seconds in (0.004, 0.01, 0.05, 5.0):
        metrics.request_started()
        metrics.request_finished("GET", "/x", 204, seconds)
    labels = {"method": "GET", "route": "/x", "status": "2xx"}

    def bucket(le: str) -> float:
        return sample(metrics.registry, "svc_http_request_duration_seconds_bucket", **labels, le=le)

    assert [bucket("0.01"), bucket("0.1"), bucket("1.0"), bucket("+Inf")] == [2, 3, 3, 4]
    assert sample(metrics.registry, "svc_http_request_duration_seconds_sum", **labels) == (
        pytest.approx(5.064)
    )
    assert sample(metrics.registry, "svc_http_requests_total", **labels) == 4
    assert sample(metrics.registry, "svc_http_requests_in_progress") == 0


@pytest.mark.parametrize("buckets", [(), (0.5, 0.1), (0.1, 0.1)])
def test_buckets_are_validated(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="buckets"):
        HttpMetrics(buckets=buckets)
