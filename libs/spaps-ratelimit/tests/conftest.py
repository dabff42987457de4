"""Fixtures: a client factory over a tiny real app, Redis namespaces, a private Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from redis.asyncio import Redis
from spaps_ratelimit import MemoryStore, RedisStore
from starlette.types import ASGIApp

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_client() -> ClientFactory:
    """``async with make_client(app, client=("1.2.3.4", 5)) as c:`` drives ``app`` in-process."""

    @asynccontextmanager
    async def factory(
        app: ASGIApp, *, client: tuple[str, int] = ("203.0.113.7", 40000)
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c

    return factory


@pytest.fixture
async def redis_client(redis_url: str, unique_name: str) -> AsyncIterator[Redis]:
    """A client of the shared Redis; every key under ``unique_name:`` is deleted after."""
    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{unique_name}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def make_redis_store(redis_client: Redis, unique_name: str) -> Callable[..., RedisStore]:
    """Stores on the shared Redis, namespaced under ``unique_name:``."""

    def factory(**kwargs: object) -> RedisStore:
        return RedisStore(redis_client, prefix=f"{unique_name}:", **kwargs)  # type: ignore[arg-type]

    return factory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisProcess:
    """A private ``redis-server`` this test may stop and restart (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A private Redis server on a free port, killed after the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: cannot start a private Redis to kill")
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_store(request: pytest.FixtureRequest) -> Callable[..., MemoryStore | RedisStore]:
    """Each test using it runs once per store: ``make_store(clock=...)``."""
    if request.param == "memory":
        return MemoryStore
    factory: Callable[..., RedisStore] = request.getfixturevalue("make_redis_store")
    return factory


@pytest.fixture
def closed_redis_url() -> str:
    """A Redis URL on a free port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"
