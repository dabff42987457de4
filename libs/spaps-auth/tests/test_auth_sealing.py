"""Secrets sealed at rest: the sealer, sealed TOTP secrets, re-sealing under a new key."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest
from spaps_auth import (
    InvalidOtpError,
    SealedSecretError,
    SealingKey,
    SecretSealer,
    TotpManager,
    totp_secret_aad,
)
from spaps_auth._tables import totp_secrets
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

OLD = SealingKey.generate("k1")
NEW = SealingKey.generate("k2")


def test_seal_and_open_bind_the_associated_data() -> None:
    sealer = SecretSealer([OLD])
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", aad=b"alice")
    assert sealed.startswith("s1:k1:")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert sealer.open(sealed, aad=b"alice") == "JBSWY3DPEHPK3PXP"
    assert sealer.seal("JBSWY3DPEHPK3PXP", aad=b"alice") != sealed  # a fresh nonce each time
    with pytest.raises(SealedSecretError, match="authentication"):
        sealer.open(sealed, aad=b"bob")
    tampered = sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")
    with pytest.raises(SealedSecretError):
        sealer.open(tampered, aad=b"alice")
    with pytest.raises(SealedSecretError, match="no sealing key"):
        SecretSealer([NEW]).open(sealed, aad=b"alice")
    with pytest.raises(SealedSecretError, match="not a sealed value"):
        sealer.open("JBSWY3DPEHPK3PXP", aad=b"alice")


def test_rotation_keeps_old_keys_opening() -> None:
    sealed = SecretSealer([OLD]).seal("secret", aad=b"u")
    rotated = SecretSealer([NEW, OLD])
    assert rotated.primary_key_id == "k2"
    assert rotated.needs_reseal(sealed)
    assert rotated.open(sealed, aad=b"u") == "secret"
    again = rotated.reseal(sealed, aad=b"u")
    assert SecretSealer.key_id_of(again) == "k2"
    assert not rotated.needs_reseal(again)
    assert rotated.needs_reseal("plaintext")


def test_parse_and_validation() -> None:
    sealer = SecretSealer.parse(f"{NEW.export()}, {OLD.export()}")
    assert sealer.primary_key_id == "k2"
    with pytest.raises(ValueError, match="at least one key"):
        SecretSealer.parse("")
    with pytest.raises(ValueError, match="<id>:<base64>"):
        SecretSealer.parse("no-colon")
    with pytest.raises(ValueError, match="32 bytes"):
        SecretSealer.parse("k:AAAA")
    with pytest.raises(ValueError, match="unique"):
        SecretSealer([OLD, OLD])
    with pytest.raises(ValueError, match="key id"):
        SealingKey("bad id", bytes(32))


async def _enrol(manager: TotpManager, user_id: str) -> pyotp.TOTP:
    enrolment = await manager.begin_enrolment(user_id, account_name=f"{user_id}@example.test")
    totp = pyotp.TOTP(enrolment.secret)
    await manager.confirm(user_id, totp.now())
    return totp


async def _raw(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(totp_secrets.c.user_id, totp_secrets.c.secret))).all()
    return {r.user_id: r.secret for r in rows}


async def test_totp_secrets_are_sealed_at_rest(engine: AsyncEngine) -> None:
    manager = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([OLD]))
    enrolment = await manager.begin_enrolment("alice", account_name="alice@example.test")
    raw = await _raw(engine)
    assert enrolment.secret not in raw["alice"]
    assert SecretSealer([OLD]).open(raw["alice"], aad=totp_secret_aad("alice")) == enrolment.secret
    await manager.confirm("alice", pyotp.TOTP(enrolment.secret).now())
    assert await manager.is_enabled("alice")


async def test_a_row_copied_to_another_user_does_not_open(engine: AsyncEngine) -> None:
    manager = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([OLD]))
    totp = await _enrol(manager, "alice")
    await _enrol(manager, "mallory")
    alice = (await _raw(engine))["alice"]
    async with engine.begin() as conn:  # the attacker copies alice's secret onto their row
        await conn.execute(
            update(totp_secrets).where(totp_secrets.c.user_id == "mallory").values(secret=alice)
        )
    with pytest.raises(SealedSecretError):
        await manager.verify("mallory", totp.now())


async def test_plaintext_rows_are_refused_until_resealed(engine: AsyncEngine) -> None:
    plain = TotpManager(engine, issuer_name="HTMA")
    totps = {user: await _enrol(plain, user) for user in ("u1", "u2", "u3")}
    sealed = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([OLD]))
    with pytest.raises(SealedSecretError, match="plaintext"):
        await sealed.verify("u1", "123456")
    assert await sealed.reseal_pending() == 3
    batches: list[int] = []
    assert await sealed.reseal(batch_size=2, progress=batches.append) == 3
    assert batches == [2, 1]
    raw = await _raw(engine)
    assert all(v.startswith("s1:k1:") for v in raw.values())
    assert not any(t.secret in v for t, v in zip(totps.values(), raw.values(), strict=True))
    assert await sealed.reseal() == 0

    # Rotation: a new primary key; the old one keeps opening until reseal has run.
    rotated = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([NEW, OLD]))
    assert await rotated.reseal_pending() == 3
    assert await rotated.reseal(batch_size=10) == 3
    assert all(v.startswith("s1:k2:") for v in (await _raw(engine)).values())
    only_new = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([NEW]))
    with pytest.raises(InvalidOtpError):  # opens (key k2), then the code is wrong
        await only_new.verify("u2", "000000" if totps["u2"].now() != "000000" else "111111")
    with pytest.raises(ValueError, match="sealer"):
        await plain.reseal()


async def test_a_sealed_row_needs_the_sealer(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(totp_secrets).values(
                user_id="u", secret=SecretSealer([OLD]).seal("JBSWY3DPEHPK3PXP", aad=b"x"),
                confirmed=True, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    with pytest.raises(SealedSecretError, match="configure"):
        await TotpManager(engine, issuer_name="HTMA").verify("u", "123456")


@pytest.mark.parametrize("form", ["shown", "upper", "no-dashes", "spaced"])
async def test_recovery_codes_in_any_form_work_once(engine: AsyncEngine, form: str) -> None:
    manager = TotpManager(engine, issuer_name="HTMA", sealer=SecretSealer([OLD]),
                          recovery_code_count=3)  # fmt: skip
    enrolment = await manager.begin_enrolment("alice", account_name="alice@example.test")
    codes = await manager.confirm("alice", pyotp.TOTP(enrolment.secret).now())
    code = codes[0]
    typed = {"shown": code, "upper": code.upper(), "no-dashes": code.replace("-", ""),
             "spaced": f" {code.upper().replace('-', ' ')} "}[form]  # fmt: skip
    assert await manager.verify_any("alice", typed) == 2
    with pytest.raises(InvalidOtpError):
        await manager.verify_any("alice", code)  # used once already
    assert await manager.verify_any("alice", codes[1]) == 1
