"""Rate limits: per clinic plan on the API, per client IP on login.

The limits' store runs on a manual clock: no budget refills while a loaded machine runs
the requests, so each test reaches its limit at the same request every time.
"""

from __future__ import annotations

from typing import Any

from htma.migrate import MIGRATIONS
from spaps_ratelimit import MemoryStore
from spaps_ratelimit.testing import ManualClock


async def test_each_clinic_has_its_own_budget(database_url: str, make_client: Any) -> None:
    await MIGRATIONS.upgrade(database_url)
    plans = {"standard": "8/minute", "premium": "100/minute"}
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    async with make_client(database_url=database_url, plans=plans, ratelimit_store=store) as client:
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
        clock.advance(60)  # a minute later alpha has its budget back
        assert (await client.http.get("/v1/panels", headers=a.practitioner)).status_code == 200


async def test_login_attempts_are_limited_per_client(database_url: str, make_client: Any) -> None:
    """The per-IP limit (20/minute) answers the 21st attempt, before the login runs.

    Distinct accounts, so no per-account lockout. The 20 failures also lock the client
    (spaps-auth's per-client threshold is 20 too), but that lock is checked by the login
    itself, which the limiter keeps the 21st attempt from reaching: with a clock that
    stands still, no budget refills in between however slow the machine.
    """
    await MIGRATIONS.upgrade(database_url)
    store = MemoryStore(clock=ManualClock())
    async with make_client(database_url=database_url, ratelimit_store=store) as client:
        responses = [
            await client.login(f"nobody{i}@nowhere.example", "wrong password here")
            for i in range(21)
        ]
    assert [r.status_code for r in responses[:20]] == [401] * 20
    assert responses[20].status_code == 429
    assert responses[20].json()["code"] == "ratelimit.rate_limited"
