"""Fixtures for the real servers the test suites talk to.

Stdlib only, so every library's suite can use them when it runs alone against its
installed wheel (``tools/standalone_check.py``).

* ``postgres_url`` -- a fresh PostgreSQL database per test, dropped afterwards.
* ``redis_url`` -- the Redis server; tests namespace their keys with ``unique_name``.
* ``amqp_url`` -- the RabbitMQ server.

When a server is unreachable the test is skipped with the reason, except when
``SPAPS_REQUIRE_SERVICES=1`` (set by ``make test`` and therefore by CI): then it fails,
so a suite that needs PostgreSQL or Redis can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "SPAPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SPAPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("SPAPS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _require(name: str, url: str, default_port: int) -> None:
    if _reachable(url, default_port):
        return
    parts = urlsplit(url)
    message = f"{name} at {parts.hostname}:{parts.port or default_port} is unreachable"
    if os.environ.get("SPAPS_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (SPAPS_REQUIRE_SERVICES=1: suites that need it must not skip)")
    pytest.skip(message)


def _psql(dsn: str, sql: str) -> None:
    subprocess.run(
        ["psql", dsn, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def unique_name() -> str:
    """A short name no other test (or xdist worker) uses: for keys, queues, databases."""
    return "spaps_" + uuid.uuid4().hex[:12]


@pytest.fixture
def postgres_url(unique_name: str) -> Iterator[str]:
    """URL (``postgresql://``) of a fresh database, dropped after the test."""
    _require("PostgreSQL", POSTGRES_URL, 5432)
    _psql(POSTGRES_URL, f'CREATE DATABASE "{unique_name}"')
    parts = urlsplit(POSTGRES_URL)
    url = parts._replace(path="/" + unique_name).geturl()
    try:
        yield url
    finally:
        _psql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{unique_name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    """URL of the Redis server; namespace keys with ``unique_name`` and delete them."""
    _require("Redis", REDIS_URL, 6379)
    return REDIS_URL


@pytest.fixture
def amqp_url() -> str:
    """URL of the RabbitMQ server (guest/guest on loopback by default)."""
    _require("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL
