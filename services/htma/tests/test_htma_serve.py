"""``htma serve`` as a real process: made-up ``X-Forwarded-For`` headers do not escape
the per-address login budget (20 attempts a minute per client IP)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from htma.migrate import MIGRATIONS
from spaps_ops.testing import DEADLINE

BUDGET = 20  # htma.limits.auth_limit: sign-up and login attempts per client IP a minute


@pytest.fixture
def served(tmp_path: Path, serve: Callable[[str, dict[str, str]], str]) -> str:
    """``htma serve --port 0`` on a migrated SQLite database; its base URL."""
    database_url = f"sqlite:///{tmp_path / 'htma.db'}"
    asyncio.run(MIGRATIONS.upgrade(database_url))
    return serve(
        "htma",
        {
            "HTMA_DATABASE_URL": database_url,
            "HTMA_ALLOWED_HOSTS": "127.0.0.1",
            "HTMA_COMPUTE_MODE": "inline",
            "HTMA_LOG_LEVEL": "warning",
        },
    )


def test_forwarded_for_headers_do_not_escape_the_login_budget(served: str) -> None:
    with httpx.Client(base_url=served, timeout=DEADLINE) as client:
        answers = [
            client.post(
                "/v1/auth/login",
                # a different made-up account each time: no account lockout is involved
                json={"email": f"nobody{i}@clinic.example", "password": "wrong password"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            for i in range(BUDGET + 4)
        ]
        statuses = [a.status_code for a in answers]
        # Every made-up address was the same client, 127.0.0.1: its budget ran out.
        assert statuses == [401] * BUDGET + [429] * 4
        limited = answers[-1]
        assert limited.headers["content-type"] == "application/problem+json"
        # Two guards key on the client's address and both ran out at the same count: the
        # per-address login limit and the per-client lockout. Either refusal shows that the
        # made-up addresses counted as the one real client; which answers first depends on
        # the order the requests' failures are recorded in, not on the headers.
        assert limited.json()["code"] in {"ratelimit.rate_limited", "auth.account_locked"}
        assert int(limited.headers["retry-after"]) >= 1
