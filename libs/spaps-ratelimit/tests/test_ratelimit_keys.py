"""Key functions: client IP behind trusted proxies, users, API keys, tenants."""

from __future__ import annotations

import hashlib

import pytest
from fastapi import FastAPI
from spaps_ratelimit import (
    Policy,
    RateLimiter,
    RateLimitMiddleware,
    api_key,
    client_ip,
    first_of,
    state_key,
    tenant_key,
    user_key,
)
from starlette.types import Scope


def scope(peer: str, *headers: tuple[str, str], state: dict[str, object] | None = None) -> Scope:
    return {
        "type": "http",
        "client": (peer, 5000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "state": state or {},
    }


def test_direct_peer_is_the_key_and_forwarded_headers_are_ignored_by_default() -> None:
    key = client_ip()
    assert key(scope("198.51.100.9")) == "198.51.100.9"
    assert key(scope("198.51.100.9", ("X-Forwarded-For", "1.2.3.4"))) == "198.51.100.9"


def test_untrusted_peer_cannot_choose_its_key_with_x_forwarded_for() -> None:
    key = client_ip(trusted_proxies=["10.0.0.0/8"])
    spoofed = scope("198.51.100.9", ("X-Forwarded-For", "1.2.3.4"))
    assert key(spoofed) == "198.51.100.9"


def test_trusted_proxy_chain_is_walked_from_the_right() -> None:
    key = client_ip(trusted_proxies=["10.0.0.0/8", "192.168.1.1"])
    # The client forged "6.6.6.6"; proxies appended the real client and each other.
    headers = ("X-Forwarded-For", "6.6.6.6, 203.0.113.5, 192.168.1.1")
    assert key(scope("10.1.2.3", headers)) == "203.0.113.5"
    split = scope("10.1.2.3", ("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.5"))
    assert key(split) == "203.0.113.5"
    # Only trusted hops: the leftmost one is all we know.
    assert key(scope("10.1.2.3", ("X-Forwarded-For", "10.9.9.9"))) == "10.9.9.9"
    # Garbage stops the walk at the last trusted hop.
    assert key(scope("10.1.2.3", ("X-Forwarded-For", "1.2.3.4, nonsense"))) == "10.1.2.3"
    assert key(scope("10.1.2.3")) == "10.1.2.3"


def test_rfc7239_forwarded_header() -> None:
    key = client_ip(trusted_proxies=["10.0.0.1"], header="forwarded")
    value = 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.1'
    assert key(scope("10.0.0.1", ("Forwarded", value))) == "2001:db8:cafe::/64"
    assert key(scope("10.0.0.1", ("Forwarded", "for=192.0.2.60:8080;by=x"))) == "192.0.2.60"
    assert key(scope("10.0.0.1", ("Forwarded", "for=_hidden, for=10.0.0.1"))) == "10.0.0.1"
    assert key(scope("198.51.100.1", ("Forwarded", "for=1.2.3.4"))) == "198.51.100.1"


def test_ipv6_clients_are_grouped_by_prefix() -> None:
    assert client_ip()(scope("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"
    assert client_ip()(scope("2001:db8:1:2:bbbb::2")) == "2001:db8:1:2::/64"
    assert client_ip(ipv6_prefix=48)(scope("2001:db8:1:2::1")) == "2001:db8:1::/48"
    assert client_ip(ipv6_prefix=128)(scope("2001:db8::1")) == "2001:db8::1"
    assert client_ip()(scope("::ffff:192.0.2.1")) == "192.0.2.1"


def test_client_ip_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="ipv6_prefix"):
        client_ip(ipv6_prefix=0)
    with pytest.raises(ValueError, match="header"):
        client_ip(header="x-real-ip")
    with pytest.raises(TypeError, match="iterable"):
        client_ip(trusted_proxies="10.0.0.1")
    with pytest.raises(ValueError, match="does not appear"):
        client_ip(trusted_proxies=["not-an-ip"])


def test_no_client_means_no_key() -> None:
    assert client_ip()({"type": "http", "headers": []}) is None


def test_user_tenant_and_state_keys() -> None:
    s = scope("1.1.1.1", state={"user_id": 42, "tenant_id": "acme", "plan": "pro"})
    assert user_key()(s) == "user:42"
    assert tenant_key()(s) == "tenant:acme"
    assert state_key("plan")(s) == "pro"
    assert user_key()(scope("1.1.1.1")) is None
    with pytest.raises(ValueError, match="identifier"):
        state_key("not valid")


def test_api_key_is_hashed_before_it_reaches_the_store() -> None:
    key = api_key()(scope("1.1.1.1", ("X-API-Key", "sk_live_secret")))
    assert key == "apikey:" + hashlib.sha256(b"sk_live_secret").hexdigest()[:32]
    assert "secret" not in key
    assert api_key()(scope("1.1.1.1")) is None
    assert api_key(header="Authorization")(scope("1.1.1.1", ("Authorization", "k"))) is not None


async def test_first_of_falls_back_and_accepts_async_key_functions() -> None:
    async def async_user(s: Scope) -> str | None:
        return user_key()(s)  # type: ignore[return-value]

    key = first_of(async_user, client_ip())
    assert await key(scope("1.1.1.1", state={"user_id": 7})) == "user:7"  # type: ignore[misc]
    assert await key(scope("1.1.1.1")) == "1.1.1.1"  # type: ignore[misc]
    assert await first_of(user_key())(scope("1.1.1.1")) is None  # type: ignore[misc]
    with pytest.raises(TypeError):
        first_of()


async def test_spoofed_forwarded_for_does_not_escape_the_limit_over_http(make_client):
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    policy = Policy("2/minute", key=client_ip(trusted_proxies=["10.0.0.0/8"]))
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(), policy=policy)
    codes = []
    async with make_client(app, client=("198.51.100.9", 1)) as attacker:
        for i in range(4):
            answer = await attacker.get("/", headers={"X-Forwarded-For": f"1.2.3.{i}"})
            codes.append(answer.status_code)
    assert codes == [200, 200, 429, 429]
    # Behind a trusted proxy, distinct clients get distinct budgets.
    async with make_client(app, client=("10.0.0.2", 1)) as proxy:
        for i in range(4):
            answer = await proxy.get("/", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            assert answer.status_code == 200
