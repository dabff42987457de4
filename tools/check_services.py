"""Say which servers the test suites will use, and fail fast where one is required and absent.

Run by ``make test`` before pytest. PostgreSQL and Redis are always there for the suites: a
URL from the environment, the server answering on the default port, or (where none
answers, or with ``SPAPS_TEST_EMBEDDED=1``) one started from its wheel by
``tools/test_servers.py``. RabbitMQ has no wheel: where none answers, the AMQP tests do not
run, which ``SPAPS_REQUIRE_SERVICES=1`` (development machines and CI) does not allow, so
this fails at once, naming the server; ``SPAPS_REQUIRE_SERVICES=postgres,redis`` allows it.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import test_servers


def main() -> int:
    test_servers.main(["status"])
    url = os.environ.get("SPAPS_TEST_AMQP_URL", "amqp://127.0.0.1:5672//")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if test_servers.answers(host, port):
        print(f"RabbitMQ: the server answering on {host}:{port}")
        return 0
    required = os.environ.get("SPAPS_REQUIRE_SERVICES", "")
    if required == "1" or "amqp" in required.split(","):
        print(
            f"error: RabbitMQ is unreachable at {host}:{port} and SPAPS_REQUIRE_SERVICES="
            f"{required} forbids skipping the AMQP tests: start it, or set SPAPS_TEST_AMQP_URL",
            file=sys.stderr,
        )
        return 1
    print(f"RabbitMQ: unreachable at {host}:{port}: the AMQP tests will not run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
