"""Row quotas, daily request quotas (memory and Redis stores) and rate-limit callables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace

import httpx
import pytest
import redis.asyncio as aioredis
from spaps_tenancy import (
    DailyRequestQuota,
    MemoryCounterStore,
    RedisCounterStore,
    RequestQuotaExceededError,
    RequestQuotaMiddleware,
    RowQuotaExceededError,
    TenantMiddleware,
    header_resolver,
    install_row_quota,
    plan_limits_override,
    tenant_context,
    tenant_rate_limit_key,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_row_quota_refuses_the_flush_over_the_limit(
    sqlite_engine: object, orm: SimpleNamespace
) -> None:
    class QuotaSession(orm.Session):  # type: ignore[misc, name-defined]  # the suite's filtered session
        pass

    plans = {"acme": 2, "zeta": None}
    install_row_quota(QuotaSession, orm.Patient, limit=plans.__getitem__)
    factory: Callable[[], Session] = sessionmaker(sqlite_engine, class_=QuotaSession)  # type: ignore[call-overload]  # engine fixture typed loosely
    with tenant_context("acme"), factory() as session:
        session.add_all([orm.Patient(name="a1"), orm.Patient(name="a2")])
        session.commit()
        session.add(orm.Patient(name="a3"))
        with pytest.raises(RowQuotaExceededError) as exceeded:
            session.flush()
        assert exceeded.value.extensions == {"limit": 2, "model": "Patient"}
        assert exceeded.value.status == 403
        session.rollback()
        assert session.scalar(select(func.count()).select_from(orm.Patient)) == 2
        # Other models are not limited.
        patient = session.scalars(select(orm.Patient)).first()
        assert patient is not None
        session.add(orm.Note(body="fine", patient_id=patient.id))
        session.commit()
    with tenant_context("zeta"), factory() as session:
        session.add_all([orm.Patient(name=f"z{i}") for i in range(5)])
        session.commit()


def test_fixed_row_quota_and_validation(sqlite_engine: object, orm: SimpleNamespace) -> None:
    class FixedSession(orm.Session):  # type: ignore[misc, name-defined]  # as above
        pass

    install_row_quota(FixedSession, orm.Note, limit=0)
    factory: Callable[[], Session] = sessionmaker(sqlite_engine, class_=FixedSession)  # type: ignore[call-overload]  # as above
    with tenant_context("acme"), factory() as session:
        session.add(orm.Patient(name="p"))
        session.flush()
        session.add(orm.Note(body="x", patient_id=1))
        with pytest.raises(RowQuotaExceededError):
            session.flush()
    with pytest.raises(TypeError, match="TenantScoped"):
        install_row_quota(FixedSession, orm.Plan, limit=1)
    with pytest.raises(ValueError, match=">= 0"):
        install_row_quota(FixedSession, orm.Note, limit=-1)
    with pytest.raises(TypeError, match="int or a callable"):
        install_row_quota(FixedSession, orm.Note, limit=True)


async def test_daily_quota_counts_per_tenant_and_day() -> None:
    clock = Clock(86400 * 20000 + 3600)  # 01:00 UTC
    quota = DailyRequestQuota(
        store=MemoryCounterStore(clock=clock), limit={"acme": 2, "zeta": 1}.get, clock=clock
    )
    assert [await quota.hit("acme"), await quota.hit("acme")] == [1, 2]
    with pytest.raises(RequestQuotaExceededError) as exceeded:
        await quota.hit("acme")
    assert exceeded.value.status == 429
    assert exceeded.value.headers == {"Retry-After": str(23 * 3600)}
    assert await quota.hit("zeta") == 1
    assert await quota.hit("unlimited") == 0  # limit None: not counted
    clock.now += 23 * 3600  # next UTC day
    assert await quota.hit("acme") == 1


def test_daily_quota_validates() -> None:
    store = MemoryCounterStore()
    with pytest.raises(ValueError, match=">= 0"):
        DailyRequestQuota(store=store, limit=-1)
    with pytest.raises(TypeError):
        DailyRequestQuota(store=store, limit="10")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="prefix"):
        DailyRequestQuota(store=store, limit=1, prefix="")
    with pytest.raises(TypeError, match="redis"):
        RedisCounterStore(object())


@pytest.mark.redis
async def test_redis_counter_store(redis_url: str, unique_name: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        quota = DailyRequestQuota(store=RedisCounterStore(client), limit=3, prefix=unique_name)
        assert [await quota.hit("acme") for _ in range(3)] == [1, 2, 3]
        with pytest.raises(RequestQuotaExceededError):
            await quota.hit("acme")
        keys = [key async for key in client.scan_iter(f"{unique_name}:*")]
        assert len(keys) == 1
        assert 0 < await client.ttl(keys[0]) <= 86400 + 60
    finally:
        async for key in client.scan_iter(f"{unique_name}:*"):
            await client.delete(key)
        await client.aclose()


async def ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def test_request_quota_middleware_answers_429_problem() -> None:
    app = Starlette(routes=[Route("/", ok), Route("/health", ok)])
    quota = DailyRequestQuota(store=MemoryCounterStore(), limit=1)
    app.add_middleware(RequestQuotaMiddleware, quota=quota, exempt_paths=["/health"])
    app.add_middleware(TenantMiddleware, resolver=header_resolver(), exempt_paths=["/health"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/", headers={"x-tenant-id": "acme"})
        second = await client.get("/", headers={"x-tenant-id": "acme"})
        other = await client.get("/", headers={"x-tenant-id": "zeta"})
        health = [await client.get("/health") for _ in range(3)]
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["content-type"] == "application/problem+json"
    assert int(second.headers["retry-after"]) > 0
    assert second.json()["code"] == "tenancy.request_quota_exceeded"
    assert second.json()["limit"] == 1
    assert other.status_code == 200
    assert [r.status_code for r in health] == [200, 200, 200]
    with pytest.raises(TypeError, match="DailyRequestQuota"):
        RequestQuotaMiddleware(ok, quota=object())  # type: ignore[arg-type]  # on purpose


def test_rate_limit_key_from_context_or_resolver() -> None:
    key = tenant_rate_limit_key(resolver=header_resolver())
    scope = {"type": "http", "headers": [(b"x-tenant-id", b"zeta")]}
    assert key(scope) == "tenant:zeta"
    with tenant_context("acme"):
        assert key(scope) == "tenant:acme"

    class RequestLike:
        def __init__(self, scope: Mapping[str, object]) -> None:
            self.scope = scope

    assert key(RequestLike(scope)) == "tenant:zeta"
    assert key({"type": "http", "headers": []}) is None
    assert tenant_rate_limit_key()({"type": "http", "headers": []}) is None


def test_plan_override_maps_tenant_keys_to_plan_limits() -> None:
    plans = {"free": ("10/minute",), "pro": ("1000/minute",)}
    tenant_plans = {"acme": "pro", "zeta": "free", "broken": "gold"}
    override = plan_limits_override(plans=plans, plan_of=tenant_plans.get)
    assert override("tenant:acme") == ("1000/minute",)
    assert override("tenant:zeta") == ("10/minute",)
    assert override("tenant:nobody") is None
    assert override("ip:127.0.0.1") is None
    with pytest.raises(KeyError, match="gold"):
        override("tenant:broken")
