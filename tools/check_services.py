"""Fail loudly, naming the server, when a server the test suites need is unreachable.

Run by ``make test`` (and so by ``.ci/run``) before pytest, so that a suite needing
PostgreSQL, Redis or RabbitMQ can never turn green by skipping.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

SERVERS = (
    (
        "PostgreSQL",
        os.environ.get("SPAPS_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test"),
        5432,
    ),
    ("Redis", os.environ.get("SPAPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), 6379),
    ("RabbitMQ", os.environ.get("SPAPS_TEST_AMQP_URL", "amqp://127.0.0.1:5672//"), 5672),
)


def main() -> int:
    failed = []
    for name, url, default_port in SERVERS:
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or default_port)
        try:
            with socket.create_connection(address, timeout=2):
                pass
        except OSError as exc:
            failed.append(f"{name} is unreachable at {address[0]}:{address[1]} ({exc})")
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    if failed:
        print(
            "error: start the server(s) above; the test suites need them and never skip in CI",
            file=sys.stderr,
        )
        return 1
    print("servers reachable: " + ", ".join(name for name, _, _ in SERVERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
