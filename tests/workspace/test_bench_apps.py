"""The whole-backbone benchmark's apps answer as the benchmark assumes.

The benchmark only counts requests per second; these tests make sure each case it
compares really does its work (authenticates, scopes to the tenant, rate-limits on
Redis) and that the spaps case refuses what it must, so a figure can never come from a
stack that skips a step.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from spaps_auth import JsonWebKey, KeySet, TokenIssuer

ROOT = Path(__file__).resolve().parents[2]
PATH = "/v1/items"


@pytest.fixture
def apps(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, unique_name: str
) -> Iterator[tuple[ModuleType, Callable[..., str]]]:
    secret = secrets.token_bytes(32)
    monkeypatch.setenv("BENCH_REDIS_URL", redis_url)
    monkeypatch.setenv("BENCH_PREFIX", f"{unique_name}:")
    monkeypatch.setenv("BENCH_JWT_SECRET", secret.hex())
    monkeypatch.syspath_prepend(str(ROOT / "bench" / "backbone"))
    spec = importlib.util.spec_from_file_location(
        "_bench_apps", ROOT / "bench" / "backbone" / "_apps.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_apps"] = module
    spec.loader.exec_module(module)

    def token(tenant: str = "acme", **options: Any) -> str:
        issuer = TokenIssuer(
            keys=KeySet([JsonWebKey.from_secret(options.pop("secret", secret), kid=module.KID)]),
            issuer=module.ISSUER,
            audience=module.AUDIENCE,
        )
        return issuer.issue("user-1", extra={module.TENANT_CLAIM: tenant}, **options)

    yield module, token
    sys.modules.pop("_bench_apps", None)


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


@pytest.mark.parametrize("case", ["spaps", "spaps_deps", "template", "ops_auth"])
async def test_each_case_serves_the_tenants_rows(
    apps: tuple[ModuleType, Callable[..., str]], case: str
) -> None:
    module, token = apps
    async with serve(getattr(module, case)()) as client:
        for tenant in ("acme", "globex"):
            response = await client.get(PATH, headers={"Authorization": f"Bearer {token(tenant)}"})
            assert response.status_code == 200, response.text
            assert response.json() == module.items_of(tenant)


@pytest.mark.parametrize("case", ["spaps", "spaps_deps"])
async def test_spaps_cases_rate_limit_on_redis_and_refuse_bad_tokens(
    apps: tuple[ModuleType, Callable[..., str]], case: str
) -> None:
    module, token = apps
    async with serve(getattr(module, case)()) as client:
        good = await client.get(PATH, headers={"Authorization": f"Bearer {token()}"})
        assert good.headers["ratelimit-policy"]  # the Redis limit decided this request
        assert "ratelimit" in good.headers
        forged = token(secret=secrets.token_bytes(32))
        bad = await client.get(PATH, headers={"Authorization": f"Bearer {forged}"})
        assert bad.status_code == 401
        assert bad.headers["content-type"].startswith("application/problem+json")
        missing = await client.get(PATH)
        assert missing.status_code == 401
        assert missing.json()["code"] == "auth.unauthenticated"
        assert (await client.get("/health/live")).status_code == 200


async def test_bare_case_answers(apps: tuple[ModuleType, Callable[..., str]]) -> None:
    module, _ = apps
    async with serve(module.bare()) as client:
        response = await client.get(PATH)
        assert response.json() == module.items_of("acme")


@pytest.mark.parametrize("case", ["spaps", "spaps_deps", "ops_auth"])
async def test_cache_probe_reports_the_verifiers_hits_and_misses(
    apps: tuple[ModuleType, Callable[..., str]], case: str
) -> None:
    module, token = apps
    first, second = token("acme"), token("globex")
    async with serve(getattr(module, case)()) as client:
        assert (await client.get("/bench/cache")).json() == {
            "hits": 0, "misses": 0, "maxsize": 4096, "currsize": 0,
        }  # fmt: skip
        for bearer in (first, first, second, first):
            response = await client.get(PATH, headers={"Authorization": f"Bearer {bearer}"})
            assert response.status_code == 200, response.text
        assert (await client.get("/bench/cache")).json() == {
            "hits": 2, "misses": 2, "maxsize": 4096, "currsize": 2,
        }  # fmt: skip


@pytest.mark.parametrize("case", ["template", "bare", "ops"])
async def test_cases_without_a_verifier_have_no_cache_probe(
    apps: tuple[ModuleType, Callable[..., str]], case: str
) -> None:
    module, _ = apps
    async with serve(getattr(module, case)()) as client:
        assert (await client.get("/bench/cache")).status_code == 404
