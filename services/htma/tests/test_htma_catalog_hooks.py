"""htma receives ingredient.updated webhooks: verified, recorded once, listed for staff."""

from __future__ import annotations

import base64
import json
from typing import Any

from htma.migrate import MIGRATIONS
from spaps_webhooks import sign_headers

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
