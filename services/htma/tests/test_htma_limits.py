"""Rate limits: per clinic plan on the API, per client IP on login."""

from __future__ import annotations

from typing import Any

from htma.migrate import MIGRATIONS


async def test_each_clinic_has_its_own_budget(database_url: str, make_client: Any) -> None:
    await MIGRATIONS.upgrade(database_url)
    plans = {"standard": "8/minute", "premium": "100/minute"}
    async with make_client(database_url=database_url, plans=plans) as client:
        a = await client.clinic("alpha")  # uses 2 of alpha's 8 (two user creations)
        statuses = [
            (await client.http.get("/v1/panels", headers=a.practitioner)).status_code
            for _ in range(7)
        ]
        assert statuses == [200] * 6 + [429]
        limited = await client.http.get("/v1/panels", headers=a.practitioner)
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        b = await client.clinic("bravo")
        assert (await client.http.get("/v1/panels", headers=b.practitioner)).status_code == 200


async def test_login_attempts_are_limited_per_client(client: Any) -> None:
    # distinct accounts: the per-account lockout never triggers, the per-IP limit does
    responses = [
        await client.login(f"nobody{i}@nowhere.example", "wrong password here") for i in range(21)
    ]
    assert [r.status_code for r in responses[:20]] == [401] * 20
    assert responses[20].status_code == 429
    assert responses[20].json()["code"] == "ratelimit.rate_limited"
