"""Fixtures of the spaps-webhooks suite: databases, real receivers (a uvicorn process and
in-process loopback servers), a canary that must see no connection, a real worker."""

from __future__ import annotations

import importlib.util
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from spaps_webhooks import Webhooks

TESTS = Path(__file__).parent
RECEIVER_SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS13ZWJob29rLXJlY2VpdmVy"


def load_helper(name: str) -> ModuleType:
    """Import a helper module of this directory (test modules cannot import each other)."""
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Receiver:
    """A running receiver process."""

    def __init__(self, url: str) -> None:
        self.base = url
        self.url = url + "/hook"
        self._client = httpx.Client(base_url=url, timeout=5)

    def control(self, **changes: Any) -> None:
        self._client.post("/control", json=changes).raise_for_status()

    def reset(self) -> None:
        self._client.post("/reset").raise_for_status()

    def stats(self, *, timeout: float = 5) -> dict[str, Any]:
        result: dict[str, Any] = self._client.get("/stats", timeout=timeout).json()
        return result

    def close(self) -> None:
        self._client.close()


class ReceiverPool:
    """Receiver processes of this test session, reused (after a reset) across tests.

    Each listening socket is bound to port 0 in this process and handed to uvicorn
    (``--fd``), so the port is known at once and no other process can take it. Until
    uvicorn serves, connections wait in the socket's backlog: the first request is the
    readiness check. This process closes its copy, so a receiver that died refuses.
    """

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.idle: dict[tuple[str, ...], list[Receiver]] = {}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.receivers: list[Receiver] = []

    def take(self, secrets: tuple[str, ...]) -> Receiver:
        idle = self.idle.setdefault(secrets, [])
        if idle:
            receiver = idle.pop()
            receiver.reset()
            return receiver
        return self.start(secrets)

    def give_back(self, secrets: tuple[str, ...], receiver: Receiver) -> None:
        self.idle.setdefault(secrets, []).append(receiver)

    def start(self, secrets: tuple[str, ...]) -> Receiver:
        env = {**os.environ, "RECEIVER_SECRETS": ",".join(secrets)}
        with socket.create_server(("127.0.0.1", 0)) as sock:
            port = sock.getsockname()[1]
            log_path = self.logs / f"receiver-{port}.log"
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "webhooks_receiver_app:app",
                        "--app-dir",
                        str(TESTS),
                        "--fd",
                        str(sock.fileno()),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(sock.fileno(),),
                    start_new_session=True,
                )
        self.procs.append(proc)
        receiver = Receiver(f"http://127.0.0.1:{port}")
        self.receivers.append(receiver)
        try:
            receiver.stats(timeout=60)  # generous: only a receiver that never starts fails
        except httpx.TransportError as exc:
            output = log_path.read_text(errors="replace")
            raise RuntimeError(f"the receiver did not start: {exc!r}\n{output}") from None
        return receiver

    def close(self) -> None:
        for receiver in self.receivers:
            receiver.close()
        for proc in self.procs:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def receiver_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverPool]:
    pool = ReceiverPool(tmp_path_factory.mktemp("receivers"))
    yield pool
    pool.close()


@pytest.fixture
def start_receiver(receiver_pool: ReceiverPool) -> Iterator[Callable[..., Receiver]]:
    """A receiver process (``webhooks_receiver_app`` under uvicorn) in its initial state."""
    taken: list[tuple[tuple[str, ...], Receiver]] = []

    def start(*, secrets: tuple[str, ...] = (RECEIVER_SECRET,)) -> Receiver:
        receiver = receiver_pool.take(secrets)
        taken.append((secrets, receiver))
        return receiver

    yield start
    for secrets, receiver in taken:
        receiver_pool.give_back(secrets, receiver)


@pytest.fixture
def worker_helpers() -> ModuleType:
    """The ``webhooks_worker_app`` module (shared configuration of test process and worker)."""
    return load_helper("webhooks_worker_app")


@pytest.fixture
def make_webhooks(tmp_path: Path) -> Iterator[Callable[..., Webhooks]]:
    """Build a :class:`Webhooks` on a fresh SQLite file (tables created)."""
    helpers = load_helper("webhooks_worker_app")
    made: list[Webhooks] = []

    def make(*, timeout: float = 2.0, db_url: str | None = None, **overrides: Any) -> Webhooks:
        url = db_url or f"sqlite:///{tmp_path / f'webhooks-{len(made)}.db'}"
        webhooks: Webhooks = helpers.build(url, timeout=timeout, **overrides)
        webhooks.create_tables()
        made.append(webhooks)
        return webhooks

    yield make
    for webhooks in made:
        webhooks.deliverer.close()
        webhooks.engine.dispose()


class Clock:
    """An injectable clock (``now=``) that moves only when a test advances it.

    It starts at the real time so that receivers checking the signed timestamp
    (5 minutes of tolerance) accept what is sent, then stays put.
    """

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Canary:
    """A loopback listener nothing accepts from: connections wait in its backlog.

    ``connections()`` drains the backlog without blocking. A client's ``connect``
    returns only after the kernel completed the handshake, so once the client call
    returned, a connection it made is in the backlog: zero means none was made.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0

    def connections(self) -> int:
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return self.accepted
            conn.close()
            self.accepted += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    watcher = Canary()
    yield watcher
    watcher.close()


Reply = tuple[int, dict[str, str]]
"""Status and headers a :class:`LoopbackServer` answers with."""


class LoopbackServer:
    """A threaded HTTP(S) server on ``host``, port 0; records what it received."""

    def __init__(
        self, host: str, reply: Callable[[str], Reply], tls: ssl.SSLContext | None
    ) -> None:
        self.requests: list[dict[str, str | None]] = []
        self.server_names: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                outer.requests.append({"path": self.path, "host": self.headers.get("host")})
                status, headers = reply(self.path)
                self.send_response(status)
                for name, value in {**headers, "content-length": "0"}.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port: int = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., LoopbackServer]]:
    """Start :class:`LoopbackServer` instances (``reply`` maps the path to an answer)."""
    servers: list[LoopbackServer] = []

    def start(
        *,
        host: str = "127.0.0.1",
        reply: Callable[[str], Reply] = lambda path: (204, {}),
        tls: ssl.SSLContext | None = None,
    ) -> LoopbackServer:
        server = LoopbackServer(host, reply, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``hooks.test`` (only), and its key."""
    cert, key = tmp_path / "hooks.test.pem", tmp_path / "hooks.test.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=hooks.test",
            "-addext",
            "subjectAltName=DNS:hooks.test",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
