"""Secure messages over HTTP, encrypted at rest, and key rotation."""

from __future__ import annotations

import base64
from typing import Any

from htma import Settings
from htma.db import create_sessionmaker
from htma.messaging.cipher import generate_key
from htma.messaging.models import Message
from htma.messaging.service import rotate_messages
from pydantic import SecretStr
from spaps_ops.db import open_engine
from spaps_tenancy import bypass
from sqlalchemy import select, text


async def test_patient_and_practitioner_exchange_messages(client: Any, database_url: str) -> None:
    clinic = await client.clinic("northside")
    sent = await client.send_message(clinic.patient, clinic.practitioner_id, "Is my magnesium low?")
    assert sent.status_code == 201
    reply = await client.send_message(
        clinic.practitioner, clinic.patient_id, "Yes: see your result."
    )
    assert reply.status_code == 201
    inbox = (await client.http.get("/v1/messages", headers=clinic.practitioner)).json()
    assert {m["body"] for m in inbox} == {"Is my magnesium low?", "Yes: see your result."}
    # at rest: only ciphertext
    async with open_engine(database_url) as engine, engine.connect() as connection:
        rows = (await connection.execute(text("SELECT ciphertext, key_id FROM messages"))).all()
    assert len(rows) == 2
    for ciphertext, key_id in rows:
        assert b"magnesium" not in bytes(ciphertext)
        assert b"result" not in bytes(ciphertext)
        assert key_id == "dev"


async def test_only_patient_practitioner_pairs(client: Any) -> None:
    clinic = await client.clinic("northside")
    admin_id = (await client.http.get("/v1/me", headers=clinic.admin)).json()["id"]
    to_admin = await client.send_message(clinic.patient, admin_id, "hello")
    assert to_admin.status_code == 403
    blank = await client.send_message(clinic.patient, clinic.practitioner_id, "   ")
    assert blank.status_code == 422
    assert blank.json()["code"] == "htma.invalid_message"


async def test_rotation_reseals_every_message_under_the_new_key(
    client: Any, database_url: str, make_client: Any
) -> None:
    clinic = await client.clinic("northside")
    for body in ("one", "two", "three"):
        await client.send_message(clinic.patient, clinic.practitioner_id, body)
    old_settings = Settings(database_url=database_url)
    new_key = generate_key("k2")
    old_key = old_settings.message_key_list()[0]
    keys = f"{new_key},dev:{base64.urlsafe_b64encode(old_key.key).decode()}"
    rotated = Settings(database_url=database_url, message_keys=SecretStr(keys))
    cipher = rotated.message_cipher()
    async with open_engine(database_url) as engine:
        sessions = create_sessionmaker(engine)
        with bypass(reason="key rotation test", actor="test"):
            async with sessions() as session:
                seen: list[int] = []
                assert (
                    await rotate_messages(session, cipher, batch_size=2, progress=seen.append) == 3
                )
                assert seen == [2, 1]
                key_ids = set(await session.scalars(select(Message.key_id)))
                assert key_ids == {"k2"}
                assert await rotate_messages(session, cipher) == 0
    # the app with only the new key still reads everything
    only_new = Settings(database_url=database_url, message_keys=SecretStr(new_key))
    async with make_client(
        database_url=only_new.database_url, message_keys=SecretStr(new_key)
    ) as app:
        headers = await app.bearer("patient@northside.example")
        bodies = {m["body"] for m in (await app.http.get("/v1/messages", headers=headers)).json()}
    assert bodies == {"one", "two", "three"}
