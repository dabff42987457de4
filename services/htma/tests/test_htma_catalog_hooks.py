"""htma receives ingredient.updated webhooks: verified, recorded once, listed for staff."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from htma.catalog.router import MAX_WEBHOOK_BODY
from htma.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from spaps_webhooks import sign_headers
from sqlalchemy import text

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER = "whsec_" + base64.b64encode(b"x" * 32).decode()


def _body(code: str = "D063", version: int = 2) -> bytes:
    return json.dumps(
        {"type": "ingredient.updated.v1", "timestamp": "2026-11-23T10:00:00+00:00",
         "data": {"code": code, "name": "Spinach", "version": version, "changed": ["fat_g"]}}
    ).encode()  # fmt: skip


async def test_signed_updates_are_recorded_once(database_url: str, make_client: Any) -> None:
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, ingredient_webhook_secrets=SECRET) as client:
        clinic = await client.clinic("northside")
        body = _body()
        headers = {**sign_headers([SECRET], "msg_1", body), "content-type": "application/json"}
        first = await client.http.post("/v1/hooks/ingredient", content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json() == {"status": "accepted"}
        replay = await client.http.post("/v1/hooks/ingredient", content=body, headers=headers)
        assert replay.status_code == 200
        forged = {**sign_headers([OTHER], "msg_2", body), "content-type": "application/json"}
        assert (
            await client.http.post("/v1/hooks/ingredient", content=body, headers=forged)
        ).status_code == 401
        updates = (await client.http.get("/v1/catalog/updates", headers=clinic.practitioner)).json()
        assert [(u["code"], u["version"]) for u in updates] == [("D063", 2)]
        denied = await client.http.get("/v1/catalog/updates", headers=clinic.patient)
        assert denied.status_code == 403


async def _receipts(database_url: str) -> list[tuple[str | None, str, int, str | None]]:
    async with open_engine(database_url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT webhook_id, outcome, status, code FROM webhook_receipts ORDER BY id")
        )
        return [(r.webhook_id, r.outcome, r.status, r.code) for r in rows]


async def test_a_signed_malformed_event_is_a_recorded_400(
    database_url: str, make_client: Any
) -> None:
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, ingredient_webhook_secrets=SECRET) as client:
        clinic = await client.clinic("northside")
        body = json.dumps(
            {"type": "ingredient.updated.v1", "timestamp": "2026-11-23T10:00:00+00:00",
             "data": {"code": "D063", "version": "not a number"}}
        ).encode()  # fmt: skip
        headers = {**sign_headers([SECRET], "msg_bad", body), "content-type": "application/json"}
        refused = await client.http.post("/v1/hooks/ingredient", content=body, headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "webhooks.malformed_payload"
        updates = (await client.http.get("/v1/catalog/updates", headers=clinic.practitioner)).json()
        assert updates == []
    assert await _receipts(database_url) == [
        ("msg_bad", "rejected", 400, "webhooks.malformed_payload")
    ]


async def test_an_oversized_body_is_refused_before_it_is_read_whole(
    database_url: str, make_client: Any
) -> None:
    await MIGRATIONS.upgrade(database_url)
    chunk, total = b"x" * 16_384, 64  # 1 MiB offered, 16 times the limit
    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        for n in range(total):
            sent.append(n)
            yield chunk

    async with make_client(database_url=database_url, ingredient_webhook_secrets=SECRET) as client:
        headers = {**sign_headers([SECRET], "msg_big", b"{}"), "content-type": "application/json"}
        refused = await client.http.post("/v1/hooks/ingredient", content=stream(), headers=headers)
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert len(sent) * len(chunk) > MAX_WEBHOOK_BODY  # the limit was reached ...
    assert len(sent) < total  # ... and the rest never read
    receipts = await _receipts(database_url)
    assert [(r[1], r[2]) for r in receipts] == [("rejected", 413)]
