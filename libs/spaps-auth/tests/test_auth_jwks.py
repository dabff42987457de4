"""The JWKS endpoint and the JWKS client, against a real tiny issuer app."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI, Response
from spaps_auth import (
    InvalidTokenError,
    JsonWebKey,
    JWKSClient,
    KeySet,
    KeysUnavailableError,
    TokenIssuer,
    TokenVerifier,
)
from spaps_auth.fastapi import jwks_router

ISSUER = "https://id.example.test"
AUDIENCE = "api.example.test"
JWKS_URL = "http://issuer.test/.well-known/jwks.json"


class Issuer:
    """A real FastAPI issuer whose key set and health the test controls."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.failing = False
        self.hits = 0
        self.app = FastAPI()

        @self.app.middleware("http")
        async def count_and_fail(request, call_next):  # type: ignore[no-untyped-def]
            self.hits += 1
            if self.failing:
                return Response("upstream broke", status_code=503)
            return await call_next(request)

        self.app.include_router(jwks_router(lambda: self.keys))

    def token(self, subject: str = "u") -> str:
        return TokenIssuer(keys=self.keys, issuer=ISSUER, audience=AUDIENCE).issue(subject)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer_app(ed_key: JsonWebKey) -> Issuer:
    return Issuer(KeySet([ed_key]))


@pytest.fixture
def make_jwks_client(issuer_app: Issuer) -> Callable[..., JWKSClient]:
    def factory(**kwargs: object) -> JWKSClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer_app.app))
        return JWKSClient(url=JWKS_URL, client=client, **kwargs)  # type: ignore[arg-type]

    return factory


def _verifier(client: JWKSClient) -> TokenVerifier:
    return TokenVerifier(
        keys=client, issuer=ISSUER, audience=AUDIENCE, algorithms=["EdDSA", "RS256"]
    )


async def test_endpoint_serves_jwks_with_cache_headers(issuer_app: Issuer) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer_app.app)) as client:
        response = await client.get(JWKS_URL)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert [k["kid"] for k in response.json()["keys"]] == ["ed-1"]


async def test_client_verifies_and_caches(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    client = make_jwks_client()
    verifier = _verifier(client)
    for _ in range(5):
        assert (await verifier.averify(issuer_app.token())).subject == "u"
    assert issuer_app.hits == 1
    assert verifier.verify(issuer_app.token()).subject == "u"  # cached key, no I/O


async def test_unknown_kid_triggers_refresh_after_rotation(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    clock = FakeClock()
    client = make_jwks_client(clock=clock, min_refresh_interval=10)
    verifier = _verifier(client)
    await verifier.averify(issuer_app.token())
    issuer_app.keys = issuer_app.keys.rotated(JsonWebKey.generate("RS256", kid="rsa-new"))
    clock.now += 11
    assert (await verifier.averify(issuer_app.token())).subject == "u"
    assert issuer_app.hits == 2


async def test_cached_token_is_refused_once_the_issuer_drops_its_key(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    client = make_jwks_client(clock=FakeClock(), min_refresh_interval=0)
    verifier = _verifier(client)
    token = issuer_app.token()
    first = await verifier.averify(token)
    assert await verifier.averify(token) is first  # served from the verified-token cache
    issuer_app.keys = issuer_app.keys.rotated(JsonWebKey.generate("EdDSA", kid="ed-2"), keep=0)
    assert await client.refresh()
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.averify(token)
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        verifier.verify(token)


async def test_unknown_kid_refresh_is_rate_limited(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    clock = FakeClock()
    client = make_jwks_client(clock=clock, min_refresh_interval=30)
    verifier = _verifier(client)
    await verifier.averify(issuer_app.token())
    stranger = JsonWebKey.generate("EdDSA", kid="not-published")
    forged = TokenIssuer(keys=KeySet([stranger]), issuer=ISSUER, audience=AUDIENCE).issue("u")
    for _ in range(20):
        with pytest.raises(InvalidTokenError, match="unknown kid"):
            await verifier.averify(forged)
    assert issuer_app.hits == 1  # within min_refresh_interval: no refetch at all
    clock.now += 31
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.averify(forged)
    assert issuer_app.hits == 2


async def test_keeps_cached_keys_when_issuer_answers_5xx(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    clock = FakeClock()
    client = make_jwks_client(clock=clock, cache_ttl=60, min_refresh_interval=0)
    verifier = _verifier(client)
    await verifier.averify(issuer_app.token())
    issuer_app.failing = True
    clock.now += 3600  # cache is stale, refresh fails: stale keys still verify
    assert (await verifier.averify(issuer_app.token())).subject == "u"
    assert issuer_app.hits == 2


class Switch(httpx.AsyncBaseTransport):
    """Routes to the issuer app while up; to a closed local port (a real refused
    connection) once the test takes the issuer down."""

    def __init__(self, app: FastAPI) -> None:
        self.up = True
        self._app = httpx.ASGITransport(app=app)
        self._net = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.up:
            return await self._app.handle_async_request(request)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=9)
        return await self._net.handle_async_request(request)


async def test_keeps_cached_keys_when_issuer_is_down(issuer_app: Issuer) -> None:
    clock = FakeClock()
    switch = Switch(issuer_app.app)
    async with httpx.AsyncClient(transport=switch, timeout=2) as http:
        client = JWKSClient(
            url=JWKS_URL, client=http, clock=clock, cache_ttl=60, min_refresh_interval=0
        )
        verifier = _verifier(client)
        await verifier.averify(issuer_app.token())
        switch.up = False
        clock.now += 3600
        assert (await verifier.averify(issuer_app.token())).subject == "u"
        assert client.fetch_count == 2  # the refresh was attempted and failed


async def test_nothing_cached_and_issuer_down_is_503() -> None:
    client = JWKSClient(url="http://127.0.0.1:9/jwks.json", timeout=1)
    token = TokenIssuer(
        keys=KeySet([JsonWebKey.generate("EdDSA", kid="k")]), issuer=ISSUER, audience=AUDIENCE
    ).issue("u")
    with pytest.raises(KeysUnavailableError):
        await _verifier(client).averify(token)
    await client.aclose()


async def test_malformed_entries_are_ignored(ed_key: JsonWebKey) -> None:
    document = {
        "keys": [
            ed_key.public_jwk(),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"},  # symmetric: never trusted from a JWKS
            {"kty": "RSA", "kid": "../x", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "confused", "alg": "HS256", "x": "AAAA"},
            "garbage",
        ]
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=document)

    client = JWKSClient(
        url=JWKS_URL, client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    assert await client.refresh()
    assert client.cached_key("ed-1") is not None
    assert client.cached_key("hs") is None
    assert client.cached_key("confused") is None


def test_client_configuration_is_validated() -> None:
    with pytest.raises(ValueError, match="http"):
        JWKSClient(url="file:///etc/jwks.json")


async def test_a_refresh_keeps_the_cached_tokens_of_unchanged_keys(
    issuer_app: Issuer, make_jwks_client: Callable[..., JWKSClient]
) -> None:
    clock = FakeClock()
    client = make_jwks_client(clock=clock, cache_ttl=300)
    verifier = _verifier(client)
    token = issuer_app.token()
    first = await verifier.averify(token)
    clock.now += 301  # the keys are stale: the next lookup refreshes them
    assert await verifier.averify(token) is first  # still the verified-token cache's hit
    assert issuer_app.hits == 2  # the JWKS was fetched again
    assert verifier.cache_info().misses == 1
    # A key published again with other material under the same kid is a new key: the
    # token it signed is verified in full against it (and fails, being signed by the old).
    issuer_app.keys = KeySet([JsonWebKey.generate("EdDSA", kid="ed-1")])
    clock.now += 301
    with pytest.raises(InvalidTokenError):
        await verifier.averify(token)
    assert verifier.cache_info().misses == 2
