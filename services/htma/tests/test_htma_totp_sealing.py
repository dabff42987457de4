"""TOTP secrets sealed at rest (issue 15): nothing readable in the raw table, rows bound to
their user, migration 0005 up and down on both back ends, and ``htma rotate-totp-keys``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from htma import Settings
from htma.migrate import MIGRATIONS
from pydantic import SecretStr
from spaps_auth import SealingKey, SecretSealer, totp_secret_aad
from spaps_ops.db import open_engine
from sqlalchemy import text

PASSWORD = "correct horse battery staple"
K1 = SealingKey.generate("k1")
K2 = SealingKey.generate("k2")


async def _raw(url: str) -> dict[str, str]:
    async with open_engine(url) as engine, engine.connect() as conn:
        rows = (await conn.execute(text("SELECT user_id, secret FROM auth_totp"))).all()
    return {r.user_id: r.secret for r in rows}


async def _enrol(client: Any, clinic: str) -> tuple[str, pyotp.TOTP]:
    body = {"clinic_id": clinic, "clinic_name": clinic, "email": f"admin@{clinic}.example",
            "password": PASSWORD, "display_name": "Admin"}  # fmt: skip
    signup = (await client.http.post("/v1/auth/signup", json=body)).json()
    headers = {"Authorization": f"Bearer {signup['tokens']['access_token']}"}
    secret = (await client.http.post("/v1/auth/mfa/totp", headers=headers)).json()["secret"]
    totp = pyotp.TOTP(secret)
    confirmed = await client.http.post(
        "/v1/auth/mfa/totp/confirm", headers=headers, json={"code": totp.now()}
    )
    assert confirmed.status_code == 200
    return signup["user"]["id"], totp


async def test_the_raw_table_holds_no_secret(client: Any, database_url: str) -> None:
    user_id, totp = await _enrol(client, "northside")
    raw = await _raw(database_url)
    assert raw[user_id].startswith("s1:")
    assert totp.secret not in raw[user_id]
    assert totp.secret.lower() not in raw[user_id].lower()
    opened = Settings().totp_sealer().open(raw[user_id], aad=totp_secret_aad(user_id))
    assert opened == totp.secret  # the development key, derived from the secret key


async def test_a_secret_copied_to_another_user_does_not_open(
    client: Any, database_url: str
) -> None:
    victim, totp = await _enrol(client, "northside")
    attacker, _ = await _enrol(client, "southside")
    async with open_engine(database_url) as engine, engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth_totp SET secret = (SELECT secret FROM auth_totp WHERE user_id = :v) "
                 "WHERE user_id = :a"),
            {"v": victim, "a": attacker},
        )  # fmt: skip
    response = await client.login("admin@southside.example", otp=totp.now())
    assert response.status_code == 500
    assert response.json()["code"] == "auth.sealed_secret_unreadable"


async def test_migration_0005_seals_and_unseals(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTMA_TOTP_KEYS", f"{K1.export()}")
    await MIGRATIONS.upgrade(database_url, "0004")
    plain = {f"user-{n}": pyotp.random_base32(32) for n in range(3)}
    async with open_engine(database_url) as engine, engine.begin() as conn:
        for user_id, secret in plain.items():
            await conn.execute(
                text("INSERT INTO auth_totp (user_id, secret, confirmed, created_at) "
                     "VALUES (:u, :s, :c, :t)"),
                {"u": user_id, "s": secret, "c": True, "t": datetime.now(UTC)},
            )  # fmt: skip
    await MIGRATIONS.upgrade(database_url)
    sealed = await _raw(database_url)
    sealer = SecretSealer([K1])
    for user_id, secret in plain.items():
        assert secret not in sealed[user_id]
        assert sealed[user_id].startswith("s1:k1:")
        assert sealer.open(sealed[user_id], aad=totp_secret_aad(user_id)) == secret
    await MIGRATIONS.downgrade(database_url, "0004")
    assert await _raw(database_url) == plain
    await MIGRATIONS.upgrade(database_url)
    assert {
        u: sealer.open(s, aad=totp_secret_aad(u)) for u, s in (await _raw(database_url)).items()
    } == plain


@pytest.fixture
def htma(run_command: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    return functools.partial(run_command, "htma.cli", cwd=tmp_path)


async def test_rotate_totp_keys_reseals_under_the_new_key(htma: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'htma.db'}"
    old = {"HTMA_DATABASE_URL": url, "HTMA_TOTP_KEYS": K1.export()}
    assert htma("migrate", env=old).returncode == 0
    settings = Settings(database_url=url, totp_keys=SecretStr(K1.export()))
    async with open_engine(settings.database_url) as engine, engine.begin() as conn:
        for n in range(3):
            sealed = SecretSealer([K1]).seal("JBSWY3DPEHPK3PXP", aad=totp_secret_aad(f"u{n}"))
            await conn.execute(
                text("INSERT INTO auth_totp (user_id, secret, confirmed, created_at) "
                     "VALUES (:u, :s, :c, :t)"),
                {"u": f"u{n}", "s": sealed, "c": True, "t": datetime.now(UTC)},
            )  # fmt: skip
    new = {**old, "HTMA_TOTP_KEYS": f"{K2.export()},{K1.export()}"}
    rotated = htma("rotate-totp-keys", "--batch-size", "2", env=new)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-sealed 3 TOTP secrets under key k2" in rotated.stdout
    assert "re-sealing TOTP secrets" in rotated.stderr  # the progress bar
    raw = await _raw(settings.database_url)
    assert all(v.startswith("s1:k2:") for v in raw.values())
    assert SecretSealer([K2]).open(raw["u1"], aad=totp_secret_aad("u1")) == "JBSWY3DPEHPK3PXP"
    again = htma("rotate-totp-keys", "--quiet", env={**new, "HTMA_TOTP_KEYS": K2.export()})
    assert "re-sealed 0 TOTP secrets" in again.stdout
    missing = htma("rotate-totp-keys", "--quiet", env=old)  # k2 rows, only k1 configured
    assert missing.returncode == 1
    assert "no sealing key 'k2'" in missing.stderr
