"""Fixtures of the spaps-webhooks suite: databases, a real receiver process, a real worker."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from spaps_webhooks import Webhooks

TESTS = Path(__file__).parent
RECEIVER_SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS13ZWJob29rLXJlY2VpdmVy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._client.get("/stats").json()
        return result

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Start ``webhooks_receiver_app`` under uvicorn on a free loopback port."""
    procs: list[subprocess.Popen[bytes]] = []
    receivers: list[Receiver] = []

    def start(*, secrets: tuple[str, ...] = (RECEIVER_SECRET,)) -> Receiver:
        port = free_port()
        env = {**os.environ, "RECEIVER_SECRETS": ",".join(secrets)}
        with (tmp_path / f"receiver-{port}.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "webhooks_receiver_app:app",
                    "--app-dir",
                    str(TESTS),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        procs.append(proc)
        receiver = Receiver(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                receiver.stats()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the receiver did not start") from None
                time.sleep(0.05)
        receivers.append(receiver)
        return receiver

    yield start
    for receiver in receivers:
        receiver.close()
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


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
