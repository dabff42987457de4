"""``ingredient serve`` as a real process: made-up ``X-Forwarded-For`` headers do not
escape the per-address budget of failed API keys; bodies and hosts are bounded."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from spaps_ops.testing import DEADLINE


@pytest.fixture
def served(seeded_url: str, serve: Callable[[str, dict[str, str]], str]) -> str:
    """``ingredient serve --port 0`` on the seeded database; its base URL."""
    return serve(
        "ingredient",
        {
            "INGREDIENT_DATABASE_URL": seeded_url,
            # A block outlasts any slow test.
            "INGREDIENT_API_KEY_FAILURE_LIMIT": "3/hour",  # pragma: allowlist secret
            "INGREDIENT_MAX_BODY_SIZE": "4096",
            "INGREDIENT_ALLOWED_HOSTS": "127.0.0.1",
            "INGREDIENT_LOG_LEVEL": "warning",
        },
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_for_headers_do_not_escape_the_api_key_budget(served: str) -> None:
    with httpx.Client(base_url=served, timeout=DEADLINE) as client:
        statuses = [
            client.get(
                "/v1/minerals",
                headers={"X-API-Key": f"ik_guess{i}_x", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(6)
        ]
        # Three failures within the budget, the fourth finds it spent: every made-up
        # address was the same client, 127.0.0.1.
        assert statuses == [401, 401, 401, 401, 429, 429]
        spoofed = {"X-API-Key": "ik_x_y", "X-Forwarded-For": "198.51.100.1"}
        limited = client.get("/v1/minerals", headers=spoofed)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert "x-request-id" in limited.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_bounds_bodies_and_hosts(served: str) -> None:
    with httpx.Client(base_url=served, timeout=DEADLINE) as client:
        big = client.patch("/v1/ingredients/A001", content=b"x" * 8192,
                           headers={"Content-Type": "application/json"})  # fmt: skip
        assert big.status_code == 413
        assert big.json()["code"] == "ops.body_too_large"
        evil = client.get("/v1/ingredients/", headers={"Host": "evil.example"})
        assert evil.status_code == 400
        assert evil.json()["code"] == "ops.invalid_host"
        assert "location" not in evil.headers
