"""Access-token verification throughput: spaps-auth vs bare PyJWT, local vs JWKS keys.

Prints, in one run:

* verification through the spaps-auth FastAPI dependency (``get_principal`` on a real
  Starlette ``Request``) versus a bare ``jwt.decode`` loop with the same key and the same
  iss/aud checks (target >= 0.85), for HS256 and EdDSA: once with the verified-token
  cache (a client repeating its token, the common case) and once with ``cache_size=0``
  (every call decodes and checks the signature: the cost of a token's first use);
* ``TokenVerifier.averify`` with keys from a warm ``JWKSClient`` versus a local
  ``KeySet`` (target: within 10%).

Rates use process CPU time: the machine is shared, and CPU time is what a verification
costs; rounds of both sides are interleaved and the best round of each is compared.

Run: ``python bench/auth/verify.py``
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import jwt
from fastapi import FastAPI
from spaps_auth import Authenticator, JsonWebKey, JWKSClient, KeySet, TokenIssuer, TokenVerifier
from spaps_auth.fastapi import get_principal, jwks_router, setup_auth
from starlette.requests import Request

ISS, AUD = "https://id.example", "api.example"
N = 2_000  # per round; short rounds interleaved so load from other processes hits both alike
ROUNDS = 25


def bare_loop(token: str, key: JsonWebKey) -> float:
    decode, verifying, algs = jwt.decode, key.verifying_key, [key.algorithm]
    started = time.process_time()
    for _ in range(N):
        decode(token, verifying, algorithms=algs, audience=AUD, issuer=ISS)
    return N / (time.process_time() - started)


async def async_loop(call: Callable[[], Awaitable[object]]) -> float:
    started = time.process_time()
    for _ in range(N):
        await call()
    return N / (time.process_time() - started)


def request_for(app: FastAPI, token: str) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "query_string": b"",
        "app": app,
    }
    return Request(scope)


async def dependency_case(algorithm: str, cache_size: int) -> tuple[float, float]:
    key = JsonWebKey.generate(algorithm, kid=f"bench-{algorithm}")
    keys = KeySet([key])
    token = TokenIssuer(keys=keys, issuer=ISS, audience=AUD).issue("user-1", roles=["reader"])
    verifier = TokenVerifier(
        keys=keys, issuer=ISS, audience=AUD, algorithms=[algorithm], cache_size=cache_size
    )
    app = FastAPI()
    setup_auth(app, authenticator=Authenticator(verifier=verifier))
    request = request_for(app, token)
    bare, ours = [], []
    for _ in range(ROUNDS):  # interleave so machine noise hits both alike
        bare.append(bare_loop(token, key))
        ours.append(await async_loop(lambda: get_principal(request)))
    return max(bare), max(ours)  # best round of each: the least disturbed figure


async def jwks_case() -> tuple[float, float]:
    key = JsonWebKey.generate("EdDSA", kid="jwks-1")
    keys = KeySet([key])
    token = TokenIssuer(keys=keys, issuer=ISS, audience=AUD).issue("user-1")
    issuer_app = FastAPI()
    issuer_app.include_router(jwks_router(keys))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer_app))
    client = JWKSClient(url="http://issuer/.well-known/jwks.json", client=http)
    remote = TokenVerifier(keys=client, issuer=ISS, audience=AUD, algorithms=["EdDSA"])
    local = TokenVerifier(keys=keys, issuer=ISS, audience=AUD, algorithms=["EdDSA"])
    await remote.averify(token)  # warm the cache
    local_rates, remote_rates = [], []
    for _ in range(ROUNDS):
        local_rates.append(await async_loop(lambda: local.averify(token)))
        remote_rates.append(await async_loop(lambda: remote.averify(token)))
    await http.aclose()
    assert client.fetch_count == 1
    return max(local_rates), max(remote_rates)


async def main() -> None:
    print(f"{N} verifications per round, best of {ROUNDS} interleaved rounds")
    for cache_size, label in ((4096, "cached"), (0, "no cache")):
        for algorithm in ("HS256", "EdDSA"):
            bare, ours = await dependency_case(algorithm, cache_size)
            print(
                f"{algorithm:6} {label:8} bare jwt.decode {bare:9.0f}/s"
                f" | spaps-auth dependency {ours:9.0f}/s | ratio {ours / bare:.3f} (target >= 0.85)"
            )
    local, remote = await jwks_case()
    print(
        f"EdDSA  local KeySet    {local:9.0f}/s | warm JWKSClient       {remote:9.0f}/s"
        f" | ratio {remote / local:.3f} (target >= 0.90)"
    )


if __name__ == "__main__":
    asyncio.run(main())
