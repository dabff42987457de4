"""The request layers: authentication, the clinic (tenant) and the rate limits run as
middleware before routing, and the public paths stay reachable without a token."""

from __future__ import annotations

from typing import Any

import pytest
from htma.migrate import MIGRATIONS
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock

PASSWORD = "correct horse battery staple"  # pragma: allowlist secret
PUBLIC = ["/openapi.json", "/docs", "/.well-known/jwks.json", "/v1/webhooks/event-types"]


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_paths_need_no_token(client: Any, path: str) -> None:
    assert (await client.http.get(path)).status_code == 200


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_paths_ignore_credentials(client: Any, path: str) -> None:
    """As their operations promise (no security, no 401): a stale token is not read."""
    stale = {"Authorization": "Bearer not-a-token"}
    assert (await client.http.get(path, headers=stale)).status_code == 200


async def test_every_other_path_needs_a_token(client: Any) -> None:
    for path in ("/v1/me", "/v1/webhooks/endpoints", "/v1/auth/sessions", "/v1/no-such-route"):
        refused = await client.http.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["code"] == "auth.unauthenticated"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.headers["x-request-id"]


async def test_a_refresh_needs_no_access_token(client: Any) -> None:
    await client.clinic("northside")
    tokens = (await client.login("admin@northside.example")).json()
    refreshed = await client.http.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize("claims", [{}, {"clinic": 7}, {"clinic": "Not A Slug!"}])
async def test_a_token_without_a_usable_clinic_is_forbidden(
    client: Any, claims: dict[str, Any]
) -> None:
    """Signed by htma itself, yet naming no clinic: refused, never run without a tenant."""
    token = client.app.state.htma.auth.issuer.issue("u-1", roles=["patient"], extra=claims)
    denied = await client.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "auth.forbidden"


async def test_the_clinic_limit_answers_before_the_route(
    database_url: str, make_client: Any
) -> None:
    """The 429 comes from the rate-limit layer: problem+json with Retry-After, the
    RateLimit headers and the request id; admitted answers carry the RateLimit headers."""
    await MIGRATIONS.upgrade(database_url)
    store = MemoryStore(clock=ManualClock())
    plans = {"standard": "3/minute"}
    async with make_client(database_url=database_url, plans=plans, ratelimit_store=store) as client:
        signup = await client.http.post(
            "/v1/auth/signup",
            json={"clinic_id": "alpha", "clinic_name": "Alpha", "email": "admin@alpha.example",
                  "password": PASSWORD, "display_name": "Admin"},
        )  # fmt: skip
        admin = {"Authorization": f"Bearer {signup.json()['tokens']['access_token']}"}
        admitted = [await client.http.get("/v1/me", headers=admin) for _ in range(3)]
        assert [r.status_code for r in admitted] == [200] * 3
        assert all("ratelimit" in r.headers for r in admitted)
        limited = await client.http.get("/v1/me", headers=admin)
    assert limited.status_code == 429
    assert limited.json()["code"] == "ratelimit.rate_limited"
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-policy"]
    assert limited.json()["request_id"] == limited.headers["x-request-id"]
    assert limited.json()["instance"] == "/v1/me"
