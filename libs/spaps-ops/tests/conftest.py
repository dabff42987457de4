"""Fixtures for the spaps-ops suite: settings, tiny apps, clients, captured log lines."""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from spaps_ops import OpsSettings, create_app


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SPAPS_* variable from the machine leaks into settings; structlog is reset."""
    for name in list(os.environ):
        if name.startswith(("SPAPS_", "TESTSVC_")) or name == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


class LogLines:
    """JSON log lines written to an in-memory stream."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def records(self, event: str | None = None) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.stream.getvalue().splitlines() if line]
        return [r for r in lines if event is None or r.get("event") == event]


@pytest.fixture
def logs() -> LogLines:
    return LogLines()


@pytest.fixture
def settings_factory() -> Callable[..., OpsSettings]:
    def factory(**values: Any) -> OpsSettings:
        return OpsSettings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def make_app(
    settings_factory: Callable[..., OpsSettings], logs: LogLines
) -> Callable[..., FastAPI]:
    """``create_app`` with test settings, logging to the ``logs`` fixture."""

    def factory(settings: OpsSettings | None = None, **options: Any) -> FastAPI:
        options.setdefault("log_stream", logs.stream)
        return create_app(settings or settings_factory(), **options)

    return factory


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[[Any], Awaitable[httpx.AsyncClient]]]:
    """Run an app's lifespan and give an httpx client on it; both closed after the test."""
    async with AsyncExitStack() as stack:

        async def factory(app: Any) -> httpx.AsyncClient:
            manager = await stack.enter_async_context(LifespanManager(app))
            transport = httpx.ASGITransport(app=manager.app)
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )

        yield factory
