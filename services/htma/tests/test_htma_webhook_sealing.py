"""With ``webhook_sealing_keys`` set, endpoint secrets are stored sealed, never in plaintext."""

from __future__ import annotations

from typing import Any

from htma.migrate import MIGRATIONS
from spaps_ops.db import open_engine
from spaps_webhooks import SealingKey
from sqlalchemy import text


async def test_endpoint_secrets_are_stored_sealed_with_the_settings_keys(
    database_url: str, make_client: Any
) -> None:
    key = SealingKey.generate("w1")
    await MIGRATIONS.upgrade(database_url)
    async with make_client(database_url=database_url, webhook_sealing_keys=[str(key)]) as client:
        lab = await client.clinic("alpha")
        created = await client.http.post(
            "/v1/webhooks/endpoints",
            headers=lab.admin,
            json={"url": "https://93.184.215.14/hooks", "event_types": ["result.ready.v1"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_")  # shown once, in plaintext, to its owner
    async with open_engine(database_url) as engine, engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM webhook_endpoints"))).all()
    assert len(rows) == 1
    dump = repr([tuple(row) for row in rows])
    assert secret not in dump
    assert secret.removeprefix("whsec_") not in dump
    assert rows[0].secret.startswith("sealed:v1:w1:")
